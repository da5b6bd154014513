import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { API } from '../../../contracts/api.ts';
import type { Disposable } from '../../disposable.ts';
import { AppError, invalidInput, perUnknownField } from '../../errors.ts';
import { AccessControl } from '../shared/access-control.ts';
import { correlation } from '../shared/correlation.ts';
import { createErrorHandler } from '../shared/error-handler.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { registerAdminRoutes } from '../routes/admin-routes.ts';
import { registerGrantRoutes } from '../routes/grant-routes.ts';
import { registerConnectorRoutes } from '../routes/connector-routes.ts';
// --- inbound connectors (issue 23) ---
import {
  isConnectorInboundPath,
  registerConnectorInboundRoutes,
} from '../routes/connector-inbound-routes.ts';
import { registerEventStreamRoute } from '../routes/event-stream-route.ts';
import { registerPayloadRoutes } from '../routes/payload-routes.ts';
import { registerMcpRoute } from '../routes/mcp-route.ts';
import { registerRunRoutes } from '../routes/run-routes.ts';
import { registerScheduleRoutes } from '../routes/schedule-routes.ts';
import { RunDetailCache } from '../shared/run-detail-cache.ts';
import { registerSkillRoutes } from '../routes/skill-routes.ts';
import { registerUiRoutes } from '../routes/ui-routes.ts';
import { registerHostRoutes } from '../routes/host-routes.ts';
import { registerMemoryRoutes } from '../routes/memory-routes.ts';
// --- outbox admin (issue 23) ---
import { registerOutboxRoutes } from '../routes/outbox-routes.ts';
import { registerRunContinueRoute } from '../routes/run-continue-route.ts';
import { registerSteeringRoutes } from '../routes/steering-routes.ts';
import { securityHeaders } from '../shared/security-headers.ts';
import { UiSessions } from '../shared/ui-sessions.ts';
import { systemClock } from '../../clock.ts';
import { describeApi } from './describe-api.ts';
import { emptyOptionalBody } from './optional-body.ts';
import { methodsOf } from './route-of.ts';
import { StatusRecorder } from './status-recorder.ts';

export const OPENAPI_PATH = '/v1/openapi.json';

/** Routes that answer without a token: they reveal nothing about runs or approvals. */
const PUBLIC_PATHS = new Set([API.health.path, OPENAPI_PATH]);

/**
 * The app and what its routes hold beyond a request: open MCP sessions (and their runs),
 * ended by `dispose` — at host stop, before the listener closes their connections.
 */
export type GatewayApp = Disposable & { app: OpenAPIHono<GatewayEnv> };

/**
 * The gateway's HTTP app: one definition (contracts/api.ts) gives validation, handlers'
 * types and the OpenAPI 3.1 document. Middleware order: correlation id, body limit,
 * authentication; one error handler turns every failure into the error envelope.
 */
export function createGatewayApp(deps: GatewayDeps): GatewayApp {
  const app = new OpenAPIHono<GatewayEnv>({
    // Validation failures become INVALID_INPUT listing `path: message` for each field.
    defaultHook: (result) => {
      if (!result.success)
        throw invalidInput(
          result.target === 'json' ? 'request body' : `request ${result.target}`,
          result.error.issues.flatMap(perUnknownField),
        );
    },
  });
  const details = new RunDetailCache({
    chain: deps.chain,
    runs: deps.runs,
    approvals: deps.approvals,
  });
  const uiSessions = deps.uiSessions ?? new UiSessions({ clock: systemClock() });
  const access = new AccessControl({
    tokens: deps.tokens,
    chain: deps.chain,
    runs: deps.runs,
    sessions: deps.sessions,
    readRun: async (runId) => (await details.get(runId)).run,
    uiSessions,
  });

  app.onError(createErrorHandler(deps.logger));
  app.notFound((c) => {
    const allowed = methodsOf(c.req.path);
    if (allowed.length > 0) {
      c.header('allow', allowed.join(', '));
      throw new AppError(
        'METHOD_NOT_ALLOWED',
        `${c.req.method} is not allowed on ${c.req.path}; it accepts ${allowed.join(', ')}`,
      );
    }
    throw new AppError('NOT_FOUND', 'no such route');
  });
  app.use('*', securityHeaders);
  app.use('*', correlation(deps.redactor));
  app.use('*', access.guardOrigin({ allowAnyHost: deps.allowAnyHost ?? false }));
  const recorder =
    deps.statusLogDir === null || deps.statusLogDir === undefined
      ? undefined
      : new StatusRecorder(deps.statusLogDir);
  if (recorder !== undefined) {
    app.use(
      '*',
      createMiddleware<GatewayEnv>(async (c, next) => {
        await next();
        recorder.record(c.req.method, c.req.path, c.res.status);
      }),
    );
  }
  const limitBody = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: (c) => {
      // The rest of the body is left unread and the server drops the socket soon after;
      // say so, or a keep-alive client reuses it and its next request fails mid-flight.
      c.header('connection', 'close');
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `request body is larger than ${deps.maxBodyBytes} bytes`,
      );
    },
  });
  app.use(
    '*',
    createMiddleware<GatewayEnv>(async (c, next) => {
      // GET and HEAD carry no body; checking one would build the full Request for nothing.
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        await next();
        return;
      }
      await limitBody(c, next);
    }),
  );
  app.use('*', emptyOptionalBody);
  app.use(
    '/v1/*',
    createMiddleware<GatewayEnv>(async (c, next) => {
      // A connector's inbound endpoint is proven by its adapter (HMAC or its own bearer secret).
      if (
        PUBLIC_PATHS.has(c.req.path) ||
        (c.req.method === 'POST' && isConnectorInboundPath(c.req.path))
      ) {
        await next();
        return;
      }
      await access.authenticate(c, next);
    }),
  );

  app.openapi(createRoute(API.health), (c) =>
    c.json(
      {
        status: 'ok' as const,
        version: deps.version,
        uptime_s: (Date.now() - deps.startedAt) / 1000,
        agents: deps.agents,
      },
      200,
    ),
  );
  registerRunRoutes(app, deps, access, details);
  registerPayloadRoutes(app, deps, access);
  registerAdminRoutes(app, deps, access);
  registerGrantRoutes(app, deps, access);
  registerConnectorRoutes(app, deps, access);
  registerConnectorInboundRoutes(app, deps, access);
  registerSkillRoutes(app, deps, access);
  registerScheduleRoutes(app, deps, access);
  registerEventStreamRoute(app, deps, access, uiSessions);
  registerHostRoutes(app, deps, access);
  registerMemoryRoutes(app, deps, access);
  // --- outbox admin (issue 23) ---
  registerOutboxRoutes(app, deps, access);
  registerRunContinueRoute(app, deps, access, details);
  registerSteeringRoutes(app, deps, access);
  const mcp = registerMcpRoute(app, deps, access);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  // Built once, on first request: every route is registered by then.
  let document: ReturnType<typeof describeApi> | undefined;
  app.get(OPENAPI_PATH, (c) => {
    document ??= describeApi(app, deps.version);
    return c.json(document, 200);
  });
  // Last: its catch-all serves the renderer's pages for every path the API does not have.
  registerUiRoutes(app, deps, access, uiSessions);
  return { app, dispose: () => mcp.close() };
}
