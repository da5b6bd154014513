import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/**
 * A run's payloads (issue 17 #15): its transcript and the purge. Admin only: payloads hold
 * what the run's calls carried (external content, personal data), which the chain and the
 * routes connectors may read deliberately do not.
 */
export function registerPayloadRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.getRunTranscript), async (c) => {
    await access.requireAdmin(c);
    const run = await deps.runs.get(c.req.valid('param').id);
    const q = c.req.valid('query');
    const transcript = await deps.payloads.transcript(run.id, {
      ...(q.after_id === undefined ? {} : { after_id: q.after_id }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return c.json(transcript, 200);
  });

  app.openapi(createRoute(API.purgeRunPayloads), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await deps.payloads.purge(
      c.req.valid('param').id,
      requestActor(c, principal.actor),
    );
    return c.json(result, 200);
  });
}
