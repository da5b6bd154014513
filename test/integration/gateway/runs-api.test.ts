import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../contracts/api.ts';
import type { Run } from '../../../contracts/runs.ts';
import { errorOf, startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';

const TEST = { actor: 'test' };

/** Issue 3 acceptance over real HTTP: create → get → cancel, sessions, idempotency, correlation, resume. */
describe('runs API', () => {
  let gw: GatewayTestHost;

  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  const createRun = async (json: unknown, headers: Record<string, string> = {}, token?: string) =>
    gw.request('POST', '/v1/runs', { json, headers, ...(token === undefined ? {} : { token }) });

  it('create → get → cancel; a second cancel is a 409 ILLEGAL_TRANSITION that changes nothing', async () => {
    const created = await createRun({ goal: 'write the weekly report', budget: { max_steps: 7 } });
    expect(created.status).toBe(201);
    const run = created.body as Run;
    expect(run).toMatchObject({
      state: 'pending',
      goal: 'write the weekly report',
      created_by: 'admin',
    });
    expect(run.budget.max_steps).toBe(7);

    const got = await gw.request('GET', `/v1/runs/${run.id}`);
    expect(got.status).toBe(200);
    const detail = got.body as RunDetail;
    expect(detail.run).toEqual(run);
    expect(detail.goals).toEqual([
      { ordinal: 0, text: 'write the weekly report', predicate: null, state: 'open' },
    ]);
    expect(detail.pending_approvals).toEqual([]);

    const cancelled = await gw.request('POST', `/v1/runs/${run.id}/cancel`, {
      json: { reason: 'not needed any more' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      id: run.id,
      state: 'cancelled',
      state_reason: 'not needed any more',
    });

    const transitionsBefore = (await gw.chain('run.transition')).length;
    const again = await gw.request('POST', `/v1/runs/${run.id}/cancel`);
    expect(again.status).toBe(409);
    const error = errorOf(again);
    expect(error.code).toBe('ILLEGAL_TRANSITION');
    expect(error.message).toMatch(/already cancelled/);
    expect((await gw.chain('run.transition')).length).toBe(transitionsBefore);
    expect(((await gw.request('GET', `/v1/runs/${run.id}`)).body as RunDetail).run.state).toBe(
      'cancelled',
    );
  });

  it('a missing run is a 404 NOT_FOUND for the admin', async () => {
    const res = await gw.request('GET', `/v1/runs/run_${'0'.repeat(32)}`);
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('NOT_FOUND');
  });

  it('a session with an active run refuses a second run (409 SESSION_BUSY) until the first ends', async () => {
    const first = (await createRun({ goal: 'first' })).body as Run;
    const busy = await createRun({ goal: 'second', session_id: first.session_id });
    expect(busy.status).toBe(409);
    expect(errorOf(busy)).toMatchObject({
      code: 'SESSION_BUSY',
      details: { active_run_id: first.id },
    });
    const session = await gw.request('GET', `/v1/sessions/${first.session_id}`);
    expect(session.body).toMatchObject({ id: first.session_id, active_run_id: first.id });

    // Still busy while running or paused.
    await gw.started.runs.transition(first.id, 'running', TEST);
    expect((await createRun({ goal: 'second', session_id: first.session_id })).status).toBe(409);

    await gw.started.runs.transition(first.id, 'done', TEST);
    const second = await createRun({ goal: 'second', session_id: first.session_id });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ session_id: first.session_id, state: 'pending' });
  });

  it('runs in an unknown session are a 404', async () => {
    const res = await createRun({ goal: 'x', session_id: 'ses_missing' });
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('NOT_FOUND');
  });

  it('Idempotency-Key: same key and body give the same run once; another body is a 409', async () => {
    const key = `key-${randomUUID()}`;
    const body = { goal: 'idempotent goal', budget: { max_steps: 3, max_retries: 1 } };
    const createdBefore = (await gw.chain('run.created')).length;

    const first = await createRun(body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const run = first.body as Run;
    const replay = await createRun(body, { 'idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(run);
    // Same request with its keys in another order: still the same request.
    const reordered = await createRun(
      { budget: { max_retries: 1, max_steps: 3 }, goal: 'idempotent goal' },
      { 'idempotency-key': key },
    );
    expect(reordered.status).toBe(200);
    expect((reordered.body as Run).id).toBe(run.id);
    const created = await gw.chain('run.created');
    expect(created.length).toBe(createdBefore + 1);
    expect(created.filter((e) => e.run_id === run.id)).toHaveLength(1);

    const conflict = await createRun({ ...body, goal: 'another goal' }, { 'idempotency-key': key });
    expect(conflict.status).toBe(409);
    expect(errorOf(conflict)).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      details: { run_id: run.id },
    });
    expect((await gw.chain('run.created')).length).toBe(createdBefore + 1);

    // Keys are private to the token that sent them.
    const other = await gw.connector('idem', ['runs:create', 'runs:read']);
    const fromOther = await createRun(body, { 'idempotency-key': key }, other.token);
    expect(fromOther.status).toBe(201);
    expect((fromOther.body as Run).id).not.toBe(run.id);
    expect((fromOther.body as Run).created_by).toBe('connector:idem');
  });

  it('a malformed Idempotency-Key is a 400 naming the header', async () => {
    const res = await createRun({ goal: 'x' }, { 'idempotency-key': 'has spaces in it' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(errorOf(res).details)).toContain('idempotency-key');
  });

  it('a well-formed x-correlation-id is echoed and stamped on every chain entry the request causes', async () => {
    const createId = `corr-create-${randomUUID()}`;
    const created = await createRun({ goal: 'correlated' }, { 'x-correlation-id': createId });
    expect(created.headers.get('x-correlation-id')).toBe(createId);
    const run = created.body as Run;
    const byCorrelation = (id: string) =>
      gw.chain().then((all) => all.filter((e) => e.correlation_id === id));
    const createEntries = await byCorrelation(createId);
    expect(createEntries.map((e) => e.event_type)).toEqual(['session.created', 'run.created']);
    expect(createEntries[1]).toMatchObject({ run_id: run.id, session_id: run.session_id });

    const cancelId = `corr-cancel-${randomUUID()}`;
    const cancelled = await gw.request('POST', `/v1/runs/${run.id}/cancel`, {
      headers: { 'x-correlation-id': cancelId },
    });
    expect(cancelled.headers.get('x-correlation-id')).toBe(cancelId);
    const cancelEntries = await byCorrelation(cancelId);
    expect(cancelEntries).toHaveLength(1);
    expect(cancelEntries[0]).toMatchObject({
      event_type: 'run.transition',
      run_id: run.id,
      data: { from: 'pending', to: 'cancelled' },
    });

    // Error responses carry it too.
    const failId = `corr-fail-${randomUUID()}`;
    const failed = await gw.request('POST', `/v1/runs/${run.id}/cancel`, {
      headers: { 'x-correlation-id': failId },
    });
    expect(failed.status).toBe(409);
    expect(failed.headers.get('x-correlation-id')).toBe(failId);
  });

  it.each([
    ['too short', 'abc'],
    ['spaces', 'has some spaces here'],
    ['log injection', 'ok-id-123"}{"level":60'],
    ['too long', 'x'.repeat(129)],
  ])('a malformed x-correlation-id (%s) is replaced by a generated one', async (_, offered) => {
    const created = await createRun({ goal: 'uncorrelated' }, { 'x-correlation-id': offered });
    expect(created.status).toBe(201);
    const echoed = created.headers.get('x-correlation-id');
    expect(echoed).not.toBe(offered);
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    const entry = (await gw.chain('run.created')).find(
      (e) => e.run_id === (created.body as Run).id,
    );
    expect(entry?.correlation_id).toBe(echoed);
  });

  it('every response has a correlation id, even without a token', async () => {
    const res = await gw.request('GET', '/v1/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('manual resume: paused_schedule → pending with trigger manual on the chain', async () => {
    const run = (await createRun({ goal: 'scheduled' })).body as Run;
    await gw.started.runs.transition(run.id, 'running', TEST);
    await gw.started.runs.transition(run.id, 'paused_schedule', {
      ...TEST,
      reason: 'wait until 9:00',
    });
    const correlationId = `corr-resume-${randomUUID()}`;
    const resumed = await gw.request('POST', `/v1/runs/${run.id}/resume`, {
      json: { reason: 'go now' },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: run.id, state: 'pending', state_reason: 'go now' });
    const last = (await gw.chain('run.transition')).filter((e) => e.run_id === run.id).at(-1);
    expect(last).toMatchObject({
      correlation_id: correlationId,
      actor: 'admin',
      data: { from: 'paused_schedule', to: 'pending', trigger: 'manual', reason: 'go now' },
    });
  });

  it('manual resume of paused_external_event works; pending and ended runs are a CONFLICT', async () => {
    const run = (await createRun({ goal: 'waits for a webhook' })).body as Run;
    const pendingResume = await gw.request('POST', `/v1/runs/${run.id}/resume`);
    expect(pendingResume.status).toBe(409);
    expect(errorOf(pendingResume).code).toBe('CONFLICT');
    await gw.started.runs.transition(run.id, 'running', TEST);
    await gw.started.runs.transition(run.id, 'paused_external_event', {
      ...TEST,
      reason: 'webhook',
      waiting_for: 'webhook.received',
    });
    const resumed = await gw.request('POST', `/v1/runs/${run.id}/resume`);
    expect(resumed.status).toBe(200);
    expect((resumed.body as Run).state).toBe('pending');
    await gw.request('POST', `/v1/runs/${run.id}/cancel`);
    const endedResume = await gw.request('POST', `/v1/runs/${run.id}/resume`);
    expect(endedResume.status).toBe(409);
    expect(errorOf(endedResume).code).toBe('CONFLICT');
  });

  it('a run paused for an approval refuses manual resume (409 CONFLICT) and stays paused', async () => {
    const run = (await createRun({ goal: 'needs a yes' })).body as Run;
    await gw.started.runs.transition(run.id, 'running', TEST);
    const { approval } = await gw.started.approvals.requestAndPause(
      {
        run_id: run.id,
        step_id: 'step_1',
        kind: 'capability',
        rule_id: 'test.asks',
        scope: 'web.fetch',
        justification: 'read the docs',
        permission_diff: [{ permission: 'egress', from: [], to: ['docs.example.com'] }],
        request: {},
      },
      TEST,
    );
    const transitions = (await gw.chain('run.transition')).length;
    const res = await gw.request('POST', `/v1/runs/${run.id}/resume`);
    expect(res.status).toBe(409);
    expect(errorOf(res)).toMatchObject({ code: 'CONFLICT' });
    expect(errorOf(res).message).toMatch(/approval/);
    expect((await gw.chain('run.transition')).length).toBe(transitions);
    const detail = (await gw.request('GET', `/v1/runs/${run.id}`)).body as RunDetail;
    expect(detail.run.state).toBe('paused_approval');
    expect(detail.pending_approvals.map((a) => a.id)).toEqual([approval.id]);

    // The decision is what resumes it.
    const decided = await gw.request('POST', `/v1/approvals/${approval.id}`, {
      json: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({
      approval: { state: 'approved' },
      run: { state: 'pending' },
    });
    const replay = await gw.request('POST', `/v1/approvals/${approval.id}`, {
      json: { decision: 'deny' },
    });
    expect(replay.status).toBe(409);
    expect(errorOf(replay).code).toBe('CONFLICT');
  });

  it('lists runs newest first with paging, and a connector sees only its own', async () => {
    const mine = await gw.connector('lister', ['runs:create', 'runs:read']);
    const own = (await createRun({ goal: 'connector run' }, {}, mine.token)).body as Run;
    const page = await gw.request('GET', '/v1/runs?limit=2');
    expect(page.status).toBe(200);
    const body = page.body as { runs: Run[]; next_before: string | null };
    expect(body.runs).toHaveLength(2);
    expect(body.next_before).toBe(body.runs[1]?.id);
    const next = (await gw.request('GET', `/v1/runs?limit=2&before=${body.next_before ?? ''}`))
      .body as { runs: Run[] };
    expect(next.runs.map((r) => r.id)).not.toContain(body.runs[0]?.id);

    const theirs = (await gw.request('GET', '/v1/runs', { token: mine.token })).body as {
      runs: Run[];
    };
    expect(theirs.runs.map((r) => r.id)).toEqual([own.id]);
  });
});
