import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { Run } from '../../../contracts/runs.ts';
import { canonicalJson } from '../../chain/canonical-json.ts';
import { AppError } from '../../errors.ts';
import { DEFAULT_POLICY_PACK } from '../../policy/policy-packs.ts';
import { IDEMPOTENCY_KEY_PURPOSE, type CreateRunContext } from '../../runs/run-service.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { RunDetailCache } from '../shared/run-detail-cache.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { createHash } from 'node:crypto';
import { requestActor } from '../shared/request-actor.ts';

const RESUMABLE_BY_HAND: readonly Run['state'][] = ['paused_schedule', 'paused_external_event'];

/** Sessions and runs: create (idempotent), list, show, cancel, resume, steps, chain. */
export function registerRunRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
  details: RunDetailCache,
): void {
  app.openapi(createRoute(API.createSession), async (c) => {
    const principal = await access.requireScope(c, 'runs:create');
    const origin = principal.kind === 'connector' ? 'connector' : 'api';
    return c.json(await deps.sessions.create(origin, requestActor(c, principal.actor)), 201);
  });

  app.openapi(createRoute(API.getSession), async (c) => {
    const { id } = c.req.valid('param');
    await access.requireScope(c, 'runs:read');
    await access.requireSession(c, id);
    return c.json(await deps.sessions.get(id), 200);
  });

  app.openapi(createRoute(API.createRun), async (c) => {
    const principal = await access.requireScope(c, 'runs:create');
    const requested = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    let input = requested;
    let context: CreateRunContext = {
      ...requestActor(c, principal.actor),
      origin: principal.kind === 'connector' ? 'connector' : 'api',
    };
    if (principal.kind !== 'admin') {
      // A non-admin never chooses its own limits: its connector record (or the defaults)
      // decides the packs it may name and caps its budget, below the pack's defaults.
      const limits = await deps.connectors.limitsFor(principal.connector_id);
      const pack = requested.policy_pack ?? limits.allowed_packs[0] ?? DEFAULT_POLICY_PACK.id;
      await access.requirePolicyPack(c, limits.allowed_packs, pack);
      input = { ...requested, policy_pack: pack };
      context = { ...context, budget_caps: limits.budget_caps };
    }
    if (input.session_id !== undefined) await access.requireSession(c, input.session_id);
    if (key === undefined) return c.json(await deps.runs.create(input, context), 201);
    const { run, replayed } = await deps.runs.createIdempotent(input, context, {
      principal: principal.token_id,
      // Only a keyed hash is stored: a caller's key may be anything, a secret included.
      key: deps.secrets.keyedHash(IDEMPOTENCY_KEY_PURPOSE, key),
      request_hash: createHash('sha256').update(canonicalJson(requested)).digest('hex'),
    });
    return replayed ? c.json(run, 200) : c.json(run, 201);
  });

  app.openapi(createRoute(API.listRuns), async (c) => {
    const principal = await access.requireScope(c, 'runs:read');
    const q = c.req.valid('query');
    const limit = q.limit ?? 50;
    const runs = await deps.runs.list({
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.session_id === undefined ? {} : { session_id: q.session_id }),
      ...(q.before === undefined ? {} : { before: q.before }),
      // Non-admins see only their own runs.
      ...(principal.kind === 'admin' ? {} : { created_by: principal.actor }),
      limit,
    });
    const last = runs.at(-1);
    return c.json({ runs, next_before: runs.length === limit && last ? last.id : null }, 200);
  });

  app.openapi(createRoute(API.getRun), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    return c.json(await details.get(run.id), 200);
  });

  app.openapi(createRoute(API.cancelRun), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:cancel');
    const principal = c.get('principal');
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json(
      await deps.runs.cancel(run.id, requestActor(c, principal.actor), body?.reason),
      200,
    );
  });

  app.openapi(createRoute(API.resumeRun), async (c) => {
    await access.requireAdmin(c);
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    const body = c.req.valid('json') as { reason?: string } | undefined;
    if (run.state === 'paused_approval') {
      throw new AppError(
        'CONFLICT',
        `run ${run.id} waits for an approval; it resumes when the approval is decided`,
      );
    }
    if (!RESUMABLE_BY_HAND.includes(run.state)) {
      throw new AppError(
        'CONFLICT',
        `run ${run.id} is ${run.state}, not paused; only paused runs can be resumed`,
      );
    }
    const resumed = await deps.runs.transition(run.id, 'pending', {
      ...requestActor(c, c.get('principal').actor),
      reason: body?.reason ?? 'resumed by hand',
      trigger: 'manual',
    });
    return c.json(resumed, 200);
  });

  app.openapi(createRoute(API.postRunEvent), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'events:post');
    const result = await deps.runs.receiveEvent(
      run.id,
      c.req.valid('json'),
      requestActor(c, c.get('principal').actor),
    );
    return c.json(result, 200);
  });

  app.openapi(createRoute(API.listRunSteps), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    return c.json({ steps: await deps.runs.steps(run.id) }, 200);
  });

  app.openapi(createRoute(API.listRunChain), async (c) => {
    const run = await access.requireRun(c, c.req.valid('param').id, 'runs:read');
    const q = c.req.valid('query');
    const page = await deps.chain.query({
      run_id: run.id,
      ...(q.after_seq === undefined ? {} : { after_seq: q.after_seq }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return c.json(page, 200);
  });
}
