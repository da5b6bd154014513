import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API } from '../../../contracts/api.ts';
import { createGatewayApp, OPENAPI_PATH } from '../../../main/gateway/server/create-gateway-app.ts';
import { HOST_VERSION } from '../../../main/version.ts';
import { UI_PAGE_ROUTES } from '../../../main/gateway/routes/ui-routes.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';

type OpenApiDoc = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};

/** hono writes `/v1/runs/:id`; OpenAPI writes `/v1/runs/{id}`. */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Issue 3: the document validates as OpenAPI 3.1 and lists every route the app serves. */
describe('GET /v1/openapi.json', () => {
  let gw: GatewayTestHost;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    gw = await startGatewayHost();
    const res = await gw.request('GET', OPENAPI_PATH, { token: null });
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDoc;
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('is served without a token and validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does reject a broken document (so the pass above means something).
    const broken = { ...doc, paths: { '/v1/runs': { get: { responses: 'none' } } } };
    expect(
      (await new Validator().validate(broken as unknown as Record<string, unknown>)).valid,
    ).toBe(false);
  });

  it('holds every route registered on the app, with its method', async () => {
    const { app, dispose } = createGatewayApp({
      ...gw.started,
      logger: pino({ level: 'silent' }),
      version: HOST_VERSION,
      startedAt: Date.now(),
      maxBodyBytes: 1024 * 1024,
      keepAliveMs: 15_000,
    });
    const routes = app.routes
      // `app.use` middleware registers as ALL; the document route describes the rest.
      .filter((r) => r.method !== 'ALL' && r.path !== OPENAPI_PATH)
      // The UI's pages (login exchange, the renderer) are HTML, not API operations.
      .filter((r) => !UI_PAGE_ROUTES.includes(r.path))
      .map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`);
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(API).length);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    for (const route of routes) expect(documented).toContain(route);
    expect(new Set(documented)).toEqual(new Set(routes));
    await dispose();
  });

  it('documents and serves every entry of contracts/api.ts', async () => {
    for (const [name, route] of Object.entries(API)) {
      expect(doc.paths[route.path]?.[route.method], name).toBeDefined();
      // Served: the request reaches a handler (any answer but the unknown-route 404).
      const abort = new AbortController();
      const res = await fetch(`${gw.url}${route.path.replace(/\{\w+\}/g, 'probe')}`, {
        method: route.method.toUpperCase(),
        headers: { authorization: `Bearer ${gw.adminToken}` },
        signal: abort.signal,
      });
      const text = res.headers.get('content-type')?.startsWith('text/event-stream')
        ? ''
        : await res.text();
      abort.abort();
      expect(text, `${name}: ${route.method} ${route.path}`).not.toContain('no such route');
    }
  });

  it('declares bearer auth and the error envelope', () => {
    const text = JSON.stringify(doc);
    expect(text).toContain('"bearer"');
    const createRun = doc.paths[API.createRun.path]?.post as { responses: Record<string, unknown> };
    expect(Object.keys(createRun.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '403', '409', '413']),
    );
  });
});
