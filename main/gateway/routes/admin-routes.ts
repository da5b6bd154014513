import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/** Admin-only routes: approvals, the agents' switch and caps, tokens and the causal chain. */
export function registerAdminRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.listApprovals), async (c) => {
    await access.requireAdmin(c);
    const q = c.req.valid('query');
    const approvals = await deps.approvals.list({
      state: q.state ?? 'pending',
      ...(q.run_id === undefined ? {} : { run_id: q.run_id }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return c.json({ approvals }, 200);
  });

  app.openapi(createRoute(API.getApproval), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.approvals.get(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.decideApproval), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await deps.approvals.decide(
      c.req.valid('param').id,
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(result, 200);
  });

  app.openapi(createRoute(API.getAgents), async (c) => {
    await access.requireAdmin(c);
    return c.json(deps.controls.status(), 200);
  });

  app.openapi(createRoute(API.pauseAgents), async (c) => {
    const principal = await access.requireAdmin(c);
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json(await deps.controls.pause(body ?? {}, requestActor(c, principal.actor)), 200);
  });

  app.openapi(createRoute(API.resumeAgents), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(await deps.controls.resume(requestActor(c, principal.actor)), 200);
  });

  app.openapi(createRoute(API.setAgentLimits), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(
      await deps.controls.setLimits(c.req.valid('json'), requestActor(c, principal.actor)),
      200,
    );
  });

  app.openapi(createRoute(API.listTokens), async (c) => {
    await access.requireAdmin(c);
    const { include_agent_sessions: all } = c.req.valid('query');
    return c.json(
      { tokens: await deps.tokens.list({ includeAgentSessions: all === 'true' }) },
      200,
    );
  });

  app.openapi(createRoute(API.createToken), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(
      await deps.tokens.create(c.req.valid('json'), requestActor(c, principal.actor)),
      201,
    );
  });

  app.openapi(createRoute(API.revokeToken), async (c) => {
    const principal = await access.requireAdmin(c);
    return c.json(
      await deps.tokens.revoke(c.req.valid('param').id, requestActor(c, principal.actor)),
      200,
    );
  });

  app.openapi(createRoute(API.verifyChain), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.chainHeads.verify(), 200);
  });

  app.openapi(createRoute(API.exportChain), async (c) => {
    await access.requireAdmin(c);
    const lines = deps.chainHeads.exportLines();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await lines.next();
        if (next.done === true) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
      },
      async cancel() {
        await lines.return(undefined);
      },
    });
    // A plain Response: the body streams page by page instead of being built in memory.
    // `as never`: @hono/zod-openapi types `application/x-ndjson` as no response at all (it
    // reads `x-nd…json` as a JSON type it does not know), though it serves it as given.
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'application/x-ndjson',
        'x-correlation-id': c.get('correlationId'),
      },
    }) as never;
  });

  app.openapi(createRoute(API.queryChain), async (c) => {
    await access.requireAdmin(c);
    return c.json(await deps.chain.query(c.req.valid('query')), 200);
  });
}
