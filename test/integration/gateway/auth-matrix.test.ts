import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { tokenInfoSchema } from '../../../contracts/tokens.ts';
import { manualClock } from '../../support/test-store.ts';
import {
  errorOf,
  startGatewayHost,
  type ApiResponse,
  type GatewayTestHost,
} from './helpers/gateway-host.ts';

/**
 * Issue 3, "Auth matrix": every refused request is a 401/403 with a stable code, is
 * audited as exactly one `auth.denied` entry carrying the request's correlation id and
 * no secret, and changes nothing else.
 */
describe('gateway auth matrix', () => {
  const clock = manualClock(new Date().toISOString());
  let gw: GatewayTestHost;
  /** Every secret a test has held: none may reach the chain or the database file. */
  const secrets: string[] = [];
  let alpha: { token: string; id: string };
  let beta: { token: string; id: string };
  let alphaRunId: string;
  let adminRunId: string;
  let approvalId: string;
  let pausedRunId: string;

  beforeAll(async () => {
    gw = await startGatewayHost({ clock });
    secrets.push(gw.adminToken);
    alpha = await gw.connector('alpha', ['runs:create', 'runs:read', 'runs:cancel']);
    beta = await gw.connector('beta', ['runs:read', 'runs:cancel']);
    secrets.push(alpha.token, beta.token);

    const created = await gw.request('POST', '/v1/runs', {
      token: alpha.token,
      json: { goal: 'alpha run' },
    });
    expect(created.status).toBe(201);
    alphaRunId = (created.body as { id: string }).id;
    const adminRun = await gw.request('POST', '/v1/runs', { json: { goal: 'admin run' } });
    adminRunId = (adminRun.body as { id: string }).id;

    const paused = await gw.started.runs.create({ goal: 'needs approval' }, { actor: 'admin' });
    pausedRunId = paused.id;
    await gw.started.runs.transition(paused.id, 'running', { actor: 'test' });
    const { approval } = await gw.started.approvals.requestAndPause(
      {
        run_id: paused.id,
        step_id: 'step_1',
        kind: 'operation',
        rule_id: 'test.asks',
        scope: 'mail.send',
        justification: 'send the report',
        permission_diff: [{ permission: 'mail.send', to: true }],
        request: { to: 'someone@example.com' },
      },
      { actor: 'test' },
    );
    approvalId = approval.id;
  });

  afterAll(async () => {
    await gw.stop();
  });

  /** What a refused request must leave exactly as it was. */
  const snapshot = async () => ({
    runs: await gw.started.runs.list({ limit: 1000 }),
    approvals: await gw.started.approvals.list({ limit: 1000 }),
    tokens: await gw.started.tokens.list(),
  });

  async function expectDenied(
    send: (headers: Record<string, string>) => Promise<ApiResponse>,
    expected: { status: 401 | 403; code: 'UNAUTHORIZED' | 'FORBIDDEN'; reason: string },
  ): Promise<{ res: ApiResponse; entry: ChainEntry }> {
    const correlationId = `auth-matrix-${randomUUID()}`;
    const state = await snapshot();
    const chainBefore = await gw.chain();
    const res = await send({ 'x-correlation-id': correlationId });
    expect(res.status).toBe(expected.status);
    expect(errorOf(res).code).toBe(expected.code);
    expect(res.headers.get('x-correlation-id')).toBe(correlationId);
    expect(await snapshot()).toEqual(state);
    const added = (await gw.chain()).slice(chainBefore.length);
    expect(added.map((e) => e.event_type)).toEqual(['auth.denied']);
    const entry = added[0] as ChainEntry;
    expect(entry.correlation_id).toBe(correlationId);
    expect(entry.rule_id).toBe(`auth.${expected.reason}`);
    expect(entry.data.reason).toBe(expected.reason);
    return { res, entry };
  }

  it('no token: 401 UNAUTHORIZED with a Bearer challenge', async () => {
    const { res, entry } = await expectDenied(
      (headers) => gw.request('GET', '/v1/runs', { token: null, headers }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'missing_token' },
    );
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(entry.actor).toBe('anonymous');
    expect(entry.data).toMatchObject({ method: 'GET', path: '/v1/runs' });
  });

  it('a malformed token: 401', async () => {
    secrets.push('not-a-ccos-token-0123456789');
    await expectDenied(
      (headers) =>
        gw.request('GET', `/v1/runs/${alphaRunId}`, {
          token: 'not-a-ccos-token-0123456789',
          headers,
        }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'malformed_token' },
    );
  });

  it('a real token id with a wrong secret: 401, and the same answer as an unknown id', async () => {
    const wrongSecret = 'A'.repeat(43);
    secrets.push(wrongSecret);
    const forged = `ccos.${alpha.id}.${wrongSecret}`;
    const { res } = await expectDenied(
      (headers) => gw.request('GET', `/v1/runs/${alphaRunId}`, { token: forged, headers }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'unknown_token' },
    );
    const unknownId = `ccos.tok_${'0'.repeat(32)}.${wrongSecret}`;
    const { res: unknown } = await expectDenied(
      (headers) => gw.request('GET', `/v1/runs/${alphaRunId}`, { token: unknownId, headers }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'unknown_token' },
    );
    expect(unknown.body).toEqual(res.body);
  });

  it('a revoked token: 401, audited with the token id', async () => {
    const gamma = await gw.connector('gamma', ['runs:read']);
    secrets.push(gamma.token);
    expect((await gw.request('GET', '/v1/runs', { token: gamma.token })).status).toBe(200);
    const revoked = await gw.request('DELETE', `/v1/tokens/${gamma.id}`);
    expect(revoked.status).toBe(200);
    const { entry } = await expectDenied(
      (headers) => gw.request('GET', '/v1/runs', { token: gamma.token, headers }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'revoked_token' },
    );
    expect(entry.data.token_id).toBe(gamma.id);
  });

  it('an expired token: 401 once the host clock passes its expiry', async () => {
    const created = await gw.request('POST', '/v1/tokens', {
      json: {
        kind: 'connector',
        label: 'short-lived',
        connector_id: 'delta',
        scopes: ['runs:read'],
        expires_in_s: 60,
      },
    });
    expect(created.status).toBe(201);
    const delta = created.body as { token: string; info: { id: string } };
    secrets.push(delta.token);
    expect((await gw.request('GET', '/v1/runs', { token: delta.token })).status).toBe(200);
    clock.advance(61_000);
    const { entry } = await expectDenied(
      (headers) => gw.request('GET', '/v1/runs', { token: delta.token, headers }),
      { status: 401, code: 'UNAUTHORIZED', reason: 'expired_token' },
    );
    expect(entry.data.token_id).toBe(delta.info.id);
  });

  it('a connector deciding an approval: 403; the approval stays pending and the run paused', async () => {
    for (const json of [
      { decision: 'approve' },
      { decision: 'deny' },
      { decision: 'modify', scope: 'mail.draft' },
    ]) {
      const { entry } = await expectDenied(
        (headers) =>
          gw.request('POST', `/v1/approvals/${approvalId}`, { token: alpha.token, json, headers }),
        { status: 403, code: 'FORBIDDEN', reason: 'admin_only' },
      );
      expect(entry.actor).toBe('connector:alpha');
      expect(entry.data.token_id).toBe(alpha.id);
    }
    expect((await gw.started.approvals.get(approvalId)).state).toBe('pending');
    expect((await gw.started.runs.get(pausedRunId)).state).toBe('paused_approval');
    await expectDenied(
      (headers) => gw.request('GET', '/v1/approvals', { token: alpha.token, headers }),
      { status: 403, code: 'FORBIDDEN', reason: 'admin_only' },
    );
  });

  it('a connector listing, creating or revoking tokens: 403', async () => {
    await expectDenied(
      (headers) => gw.request('GET', '/v1/tokens', { token: alpha.token, headers }),
      { status: 403, code: 'FORBIDDEN', reason: 'admin_only' },
    );
    await expectDenied(
      (headers) =>
        gw.request('POST', '/v1/tokens', {
          token: alpha.token,
          headers,
          json: { kind: 'admin', label: 'escalate' },
        }),
      { status: 403, code: 'FORBIDDEN', reason: 'admin_only' },
    );
    await expectDenied(
      (headers) => gw.request('DELETE', `/v1/tokens/${beta.id}`, { token: alpha.token, headers }),
      { status: 403, code: 'FORBIDDEN', reason: 'admin_only' },
    );
  });

  it("another connector's run and a run that does not exist get the same 403", async () => {
    const missing = `run_${'f'.repeat(32)}`;
    const read = async (id: string) =>
      (
        await expectDenied(
          (headers) => gw.request('GET', `/v1/runs/${id}`, { token: beta.token, headers }),
          { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
        )
      ).res;
    const cancel = async (id: string) =>
      (
        await expectDenied(
          (headers) =>
            gw.request('POST', `/v1/runs/${id}/cancel`, { token: beta.token, headers, json: {} }),
          { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
        )
      ).res;
    expect((await read(alphaRunId)).body).toEqual((await read(missing)).body);
    expect((await cancel(alphaRunId)).body).toEqual((await cancel(missing)).body);
    // An admin's run is not a connector's either.
    expect((await read(adminRunId)).body).toEqual((await read(missing)).body);
    for (const sub of ['steps', 'chain']) {
      await expectDenied(
        (headers) =>
          gw.request('GET', `/v1/runs/${alphaRunId}/${sub}`, { token: beta.token, headers }),
        { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
      );
    }
    expect((await gw.started.runs.get(alphaRunId)).state).toBe('pending');
    // The owner still can.
    expect((await gw.request('GET', `/v1/runs/${alphaRunId}`, { token: alpha.token })).status).toBe(
      200,
    );
  });

  it('a connector without runs:create creating a run: 403, and no run or session is made', async () => {
    await expectDenied(
      (headers) =>
        gw.request('POST', '/v1/runs', { token: beta.token, headers, json: { goal: 'sneak' } }),
      { status: 403, code: 'FORBIDDEN', reason: 'missing_scope' },
    );
    await expectDenied(
      (headers) => gw.request('POST', '/v1/sessions', { token: beta.token, headers }),
      { status: 403, code: 'FORBIDDEN', reason: 'missing_scope' },
    );
  });

  it("a connector starting a run in another's session: 403, audited like every refusal", async () => {
    const adminRun = await gw.started.runs.get(adminRunId);
    await gw.started.runs.cancel(adminRunId, { actor: 'test' });
    await expectDenied(
      (headers) =>
        gw.request('POST', '/v1/runs', {
          token: alpha.token,
          headers,
          json: { goal: 'hijack', session_id: adminRun.session_id },
        }),
      { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
    );
  });

  // Issue 17 #22: the owner is stored on the session, not inferred from the runs in it, so
  // a connector can start the first run of a session it just created — and nobody else can.
  it('a connector starts runs in a session it just created and reads it; another connector may not', async () => {
    const gamma = await gw.connector('gamma', ['runs:create', 'runs:read']);
    secrets.push(gamma.token);
    const made = await gw.request('POST', '/v1/sessions', { token: alpha.token });
    expect(made.status, made.text).toBe(201);
    const session = made.body as { id: string; owner: string };
    expect(session.owner).toBe('connector:alpha');

    const seen = await gw.request('GET', `/v1/sessions/${session.id}`, { token: alpha.token });
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body).toMatchObject({ id: session.id, owner: 'connector:alpha' });
    await expectDenied(
      (headers) => gw.request('GET', `/v1/sessions/${session.id}`, { token: gamma.token, headers }),
      { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
    );
    await expectDenied(
      (headers) =>
        gw.request('POST', '/v1/runs', {
          token: gamma.token,
          headers,
          json: { goal: 'squat', session_id: session.id },
        }),
      { status: 403, code: 'FORBIDDEN', reason: 'not_owner' },
    );

    const first = await gw.request('POST', '/v1/runs', {
      token: alpha.token,
      json: { goal: 'first in its own session', session_id: session.id },
    });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ session_id: session.id, created_by: 'connector:alpha' });
    await gw.started.runs.cancel((first.body as { id: string }).id, { actor: 'test' });
  });

  it('admin creates, lists and revokes tokens; a list never holds secrets or hashes', async () => {
    const created = await gw.request('POST', '/v1/tokens', {
      json: { kind: 'admin', label: 'second admin' },
    });
    expect(created.status).toBe(201);
    const second = created.body as { token: string; info: { id: string } };
    secrets.push(second.token);
    expect(second.token).toMatch(/^ccos\.tok_[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
    expect((await gw.request('GET', '/v1/runs', { token: second.token })).status).toBe(200);

    const listed = await gw.request('GET', '/v1/tokens');
    expect(listed.status).toBe(200);
    const tokens = (listed.body as { tokens: unknown[] }).tokens;
    expect(tokens.map((t) => (t as { id: string }).id)).toContain(second.info.id);
    for (const t of tokens) {
      expect(Object.keys(t as object).sort()).toEqual(Object.keys(tokenInfoSchema.shape).sort());
    }
    for (const secret of secrets) {
      const part = secret.split('.').at(-1) ?? secret;
      expect(listed.text).not.toContain(part);
      expect(listed.text).not.toContain(createHash('sha256').update(part).digest('hex'));
    }

    const revoked = await gw.request('DELETE', `/v1/tokens/${second.info.id}`);
    expect(revoked.status).toBe(200);
    expect((revoked.body as { revoked_at: string | null }).revoked_at).not.toBeNull();
    expect((await gw.request('GET', '/v1/runs', { token: second.token })).status).toBe(401);
  });

  it('no token secret appears anywhere in the chain or the database file', async () => {
    const chainText = JSON.stringify(await gw.chain());
    const files = ['', '-wal', '-journal']
      .map((suffix) => `${gw.databaseFile}${suffix}`)
      .filter((f) => existsSync(f));
    const raw = await Promise.all(files.map((f) => readFile(f)));
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      const secretPart = secret.split('.').at(-1) ?? secret;
      expect(chainText).not.toContain(secretPart);
      for (const bytes of raw) expect(bytes.includes(Buffer.from(secretPart))).toBe(false);
    }
    expect((await gw.chain('auth.denied')).length).toBeGreaterThanOrEqual(20);
  });
});
