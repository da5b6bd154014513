import type { OpenAPIHono } from '@hono/zod-openapi';
import { API, API_TAGS, apiTagOf } from '../../../contracts/api.ts';
import { CORRELATION_HEADER } from '../shared/correlation.ts';
import type { GatewayEnv } from '../shared/gateway-env.ts';

type OpenApiDocument = ReturnType<OpenAPIHono<GatewayEnv>['getOpenAPI31Document']>;
type Operation = {
  operationId?: string;
  tags?: string[];
  responses?: Record<string, { headers?: Record<string, unknown> }>;
};

/**
 * The OpenAPI 3.1 document of the gateway, from the one route definition (contracts/api.ts)
 * plus what a client generator needs and hono does not add by itself: an `operationId` (the
 * route's name in `API`) and a tag on every operation, the correlation header on every
 * response, and the info block.
 */
export function describeApi(app: OpenAPIHono<GatewayEnv>, version: string): OpenApiDocument {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'CCOS Gateway',
      version,
      description:
        'Local API of the CCOS Gateway host: runs, approvals, skills, tokens and the causal chain. It listens on 127.0.0.1; send `Authorization: Bearer <token>`.',
      license: {
        name: 'UNLICENSED',
        url: 'https://docs.npmjs.com/cli/configuring-npm/package-json#license',
      },
      contact: { name: 'CCOS Gateway maintainers', url: 'https://github.com/ccos-gateway' },
    },
    servers: [{ url: 'http://127.0.0.1:7427', description: 'the local host (default port)' }],
    security: [{ bearer: [] }],
    tags: Object.entries(API_TAGS).map(([name, description]) => ({ name, description })),
  });
  const correlation = { $ref: '#/components/headers/CorrelationId' };
  doc.components = {
    ...doc.components,
    headers: {
      ...doc.components?.headers,
      CorrelationId: {
        description:
          'Identifies the request in logs and on the chain entries it caused; yours if you sent a well-formed one',
        schema: { type: 'string' },
      },
    },
  };
  for (const [name, route] of Object.entries(API)) {
    const item = doc.paths?.[route.path] as Record<string, Operation | undefined> | undefined;
    const operation = item?.[route.method];
    if (operation === undefined) continue;
    operation.operationId = name;
    operation.tags = [apiTagOf(route.path)];
    for (const response of Object.values(operation.responses ?? {})) {
      response.headers = { ...response.headers, [CORRELATION_HEADER]: correlation };
    }
  }
  return doc;
}
