import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import { AppError } from '../../errors.ts';
import type { OutboxAdmin } from '../../outbox/outbox-admin.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/**
 * The outbox for the person (issue 23): list, show with history, retry a dead letter,
 * discard, prune. Admin only: a connector's token or an MCP client acting for an agent
 * must not resend, drop or read what other runs sent.
 */
export function registerOutboxRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  const admin = (): OutboxAdmin => {
    if (deps.outboxAdmin === undefined)
      throw new AppError('NOT_FOUND', 'this gateway has no outbox');
    return deps.outboxAdmin;
  };

  app.openapi(createRoute(API.listOutbox), async (c) => {
    await access.requireAdmin(c);
    return c.json(await admin().list(c.req.valid('query')), 200);
  });

  app.openapi(createRoute(API.getOutboxMessage), async (c) => {
    await access.requireAdmin(c);
    return c.json(await admin().show(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.retryOutboxMessage), async (c) => {
    const principal = await access.requireAdmin(c);
    const { id } = c.req.valid('param');
    const result = await admin().retry(id, c.req.valid('json'), requestActor(c, principal.actor));
    return c.json(result, 200);
  });

  app.openapi(createRoute(API.discardOutboxMessage), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await admin().discard(c.req.valid('param').id, requestActor(c, principal.actor));
    return c.json(result, 200);
  });

  app.openapi(createRoute(API.pruneOutbox), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(await admin().prune(c.req.valid('json'), requestActor(c, principal.actor)), 200);
  });
}
