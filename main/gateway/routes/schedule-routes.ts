import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/**
 * `/v1/schedules`: list, create, show (next five fires, recent fires), edit, delete, pause,
 * resume and trigger. Admin only: a schedule starts runs with budgets of their own, on its
 * own, long after the request that made it.
 */
export function registerScheduleRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.listSchedules), async (c) => {
    await access.requireAdmin(c);
    const q = c.req.valid('query');
    const schedules = await deps.schedules.list({
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return c.json({ schedules }, 200);
  });

  app.openapi(createRoute(API.createSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const schedule = await deps.schedules.create(
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(schedule, 201);
  });

  app.openapi(createRoute(API.getSchedule), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.schedules.get(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.updateSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const schedule = await deps.schedules.update(
      c.req.valid('param').id,
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(schedule, 200);
  });

  app.openapi(createRoute(API.deleteSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const deleted = await deps.schedules.delete(
      c.req.valid('param').id,
      requestActor(c, principal.actor),
    );
    return c.json(deleted, 200);
  });

  app.openapi(createRoute(API.pauseSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const body = c.req.valid('json') as { reason?: string } | undefined;
    const schedule = await deps.schedules.pause(
      c.req.valid('param').id,
      requestActor(c, principal.actor),
      body?.reason,
    );
    return c.json(schedule, 200);
  });

  app.openapi(createRoute(API.resumeSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const schedule = await deps.schedules.resume(
      c.req.valid('param').id,
      requestActor(c, principal.actor),
    );
    return c.json(schedule, 200);
  });

  app.openapi(createRoute(API.triggerSchedule), async (c) => {
    const principal = await access.requireAdmin(c);
    const fire = await deps.schedules.trigger(
      c.req.valid('param').id,
      requestActor(c, principal.actor),
    );
    return c.json(fire, 200);
  });
}
