import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/** Admin-only routes of standing approvals (issue 22): list, show, revoke. */
export function registerGrantRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.listGrants), async (c) => {
    await access.requireAdmin(c);
    const q = c.req.valid('query');
    const grants = await deps.grants.list({
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.run_id === undefined ? {} : { run_id: q.run_id }),
      ...(q.schedule_id === undefined ? {} : { schedule_id: q.schedule_id }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return c.json({ grants }, 200);
  });

  app.openapi(createRoute(API.getGrant), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.grants.get(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.revokeGrant), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(
      await deps.grants.revoke(c.req.valid('param').id, requestActor(c, principal.actor)),
      200,
    );
  });
}
