import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { RunInterruptInput } from '../../../contracts/steering.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/**
 * Steering a live run (issue 24): notes to its agent and interrupts. A note reaches the model
 * framed as the supervising person's instruction, so only the person (an admin token: the UI
 * and CLI) sends one; a connector's words reach an agent as quarantined events instead. An
 * interrupt only stops the run, so its owner may send one with the scope that cancels it.
 */
export function registerSteeringRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.postRunNote), async (c) => {
    const principal = await access.requireAdmin(c);
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    const note = await deps.steering.addNote(
      run.id,
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(note, 201);
  });

  app.openapi(createRoute(API.listRunNotes), async (c) => {
    await access.requireAdmin(c);
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    return c.json({ notes: await deps.steering.notes(run.id) }, 200);
  });

  app.openapi(createRoute(API.interruptRun), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:cancel');
    const body = c.req.valid('json') as RunInterruptInput | undefined;
    const interrupt = await deps.steering.interrupt(
      run.id,
      body ?? {},
      requestActor(c, c.get('principal').actor),
    );
    return c.json(interrupt, 200);
  });
}
