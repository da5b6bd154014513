import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import { AppError } from '../../errors.ts';
import type { MemoryAdmin } from '../../memory/memory-admin.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/**
 * Governed memory for the person (issue 22): list, show, delete one, purge a scope. Admin
 * only, like `/v1/policies`: memory holds what agents learned about people, and a
 * connector's or agent's token has no business browsing it.
 */
export function registerMemoryRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  const admin = (): MemoryAdmin => {
    if (deps.memoryAdmin === undefined)
      throw new AppError('NOT_FOUND', 'this gateway has no memory');
    return deps.memoryAdmin;
  };
  // Every caller that gets past requireAdmin is an admin: personal data is shown to them.
  const ADMIN = { admin: true };

  app.openapi(createRoute(API.listMemory), async (c) => {
    await access.requireAdmin(c);
    return c.json({ items: await admin().list(c.req.valid('query'), ADMIN) }, 200);
  });

  app.openapi(createRoute(API.getMemoryItem), async (c) => {
    await access.requireAdmin(c);
    return c.json(await admin().show(c.req.valid('param').id, ADMIN), 200);
  });

  app.openapi(createRoute(API.deleteMemoryItem), async (c) => {
    const principal = await access.requireAdmin(c);
    await admin().delete(c.req.valid('param').id, requestActor(c, principal.actor));
    return c.json({ deleted: true as const }, 200);
  });

  app.openapi(createRoute(API.purgeMemory), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await admin().purge(c.req.valid('json'), requestActor(c, principal.actor));
    return c.json(result, 200);
  });
}
