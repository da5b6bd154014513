import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { ContinueRunInput } from '../../../contracts/runs.ts';
import { AppError } from '../../errors.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import type { RunDetailCache } from '../shared/run-detail-cache.ts';
import { requestActor } from '../shared/request-actor.ts';

/** `POST /v1/runs/{id}/continue`: an ended run goes on as a new run (admin). */
export function registerRunContinueRoute(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
  details: RunDetailCache,
): void {
  app.openapi(createRoute(API.continueRun), async (c) => {
    const principal = await access.requireAdmin(c);
    const { id } = c.req.valid('param');
    // Answers 404 for an unknown run before anything else.
    await details.get(id);
    if (deps.continueRun === undefined)
      throw new AppError('CONFLICT', 'this gateway cannot continue runs');
    const input = c.req.valid('json') as ContinueRunInput | undefined;
    const run = await deps.continueRun(id, input ?? {}, requestActor(c, principal.actor));
    return c.json(run, 201);
  });
}
