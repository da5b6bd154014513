import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/** Connector records (admin): what runs created by each connector's tokens may use. */
export function registerConnectorRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.listConnectors), async (c) => {
    await access.requireAdmin(c);
    return c.json({ connectors: await deps.connectors.list() }, 200);
  });

  app.openapi(createRoute(API.getConnector), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.connectors.get(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.putConnector), async (c) => {
    const principal = await access.requireAdmin(c);
    const record = await deps.connectors.put(
      c.req.valid('param').id,
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(record, 200);
  });
}
