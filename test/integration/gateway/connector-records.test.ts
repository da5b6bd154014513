import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import {
  errorFields,
  errorOf,
  startGatewayHost,
  type GatewayTestHost,
} from './helpers/gateway-host.ts';

/** A pack that would let a run spend far more than the default, and ask nobody. */
const LAX = {
  ...DEFAULT_POLICY_PACK,
  id: 'lax',
  version: 'lax-1',
  default_budget: {
    ...DEFAULT_POLICY_PACK.default_budget,
    max_steps: 5_000,
    max_tokens: 5_000_000,
  },
  approval_capabilities: [],
};

/**
 * Issue 17 #13: a connector token no longer chooses its own budget and policy pack. Its
 * connector record (or, without one, the defaults) names the packs it may use and caps its
 * budget; every request is lowered to those caps and to the pack's defaults, and the run
 * says which limits were lowered and why.
 */
describe('connector records clamp non-admin run creation', () => {
  let gw: GatewayTestHost;
  let alpha: { token: string; id: string };
  let beta: { token: string; id: string };

  beforeAll(async () => {
    gw = await startGatewayHost({ policyPacks: [LAX] });
    alpha = await gw.connector('alpha', ['runs:create', 'runs:read']);
    beta = await gw.connector('beta', ['runs:create', 'runs:read']);
  });
  afterAll(async () => {
    await gw.stop();
  });

  const createAs = (token: string | undefined, json: unknown, headers?: Record<string, string>) =>
    gw.request('POST', '/v1/runs', {
      json,
      ...(token === undefined ? {} : { token }),
      ...(headers === undefined ? {} : { headers }),
    });

  it('without a record: only the default pack, never above its defaults, and the clamp is shown', async () => {
    const res = await createAs(alpha.token, {
      goal: 'spend a lot',
      budget: { max_steps: 10_000, max_tokens: 9_000_000, max_retries: 1 },
    });
    expect(res.status, res.text).toBe(201);
    const run = res.body as Run;
    expect(run.policy_pack).toBe('default');
    expect(run.budget).toEqual({ ...DEFAULT_POLICY_PACK.default_budget, max_retries: 1 });
    expect(run.budget_clamps).toEqual([
      { limit: 'max_steps', requested: 10_000, granted: 50, by: 'policy_pack' },
      { limit: 'max_tokens', requested: 9_000_000, granted: 200_000, by: 'policy_pack' },
    ]);
    // Shown again on every read, and audited with the run's creation.
    const read = await gw.request('GET', `/v1/runs/${run.id}`, { token: alpha.token });
    expect((read.body as { run: Run }).run.budget_clamps).toEqual(run.budget_clamps);
    const [created] = (await gw.chain('run.created')).filter((e) => e.run_id === run.id);
    expect(created?.data.budget_clamps).toEqual(run.budget_clamps);

    const lax = await createAs(alpha.token, { goal: 'pick a lax pack', policy_pack: 'lax' });
    expect(lax.status, lax.text).toBe(403);
    expect(errorOf(lax).code).toBe('FORBIDDEN');
    const denied = (await gw.chain('auth.denied')).at(-1) as ChainEntry;
    expect(denied.data).toMatchObject({ reason: 'pack_not_allowed', policy_pack: 'lax' });
  });

  it('an admin is not clamped', async () => {
    const res = await createAs(undefined, {
      goal: 'admin spends',
      budget: { max_steps: 10_000 },
      policy_pack: 'lax',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ budget: { max_steps: 10_000 }, budget_clamps: [] });
  });

  it("with a record: its packs (the first by default) and its caps, below the pack's defaults", async () => {
    const put = await gw.request('PUT', '/v1/connectors/beta', {
      json: {
        allowed_packs: ['lax', 'default'],
        budget_caps: { max_steps: 20, max_tokens: 900_000 },
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ id: 'beta', allowed_packs: ['lax', 'default'] });

    const plain = await createAs(beta.token, { goal: 'no limits asked' });
    expect(plain.status, plain.text).toBe(201);
    const run = plain.body as Run;
    expect(run.policy_pack).toBe('lax');
    expect(run.budget).toMatchObject({ max_steps: 20, max_tokens: 900_000 });
    expect(run.budget_clamps).toEqual([
      { limit: 'max_steps', requested: null, granted: 20, by: 'connector' },
      { limit: 'max_tokens', requested: null, granted: 900_000, by: 'connector' },
    ]);

    const modest = await createAs(beta.token, {
      goal: 'asks for less',
      policy_pack: 'default',
      budget: { max_steps: 5, max_tokens: 1_000_000 },
    });
    expect(modest.status, modest.text).toBe(201);
    expect(modest.body).toMatchObject({
      policy_pack: 'default',
      budget: { max_steps: 5, max_tokens: 200_000 },
      budget_clamps: [
        { limit: 'max_tokens', requested: 1_000_000, granted: 200_000, by: 'policy_pack' },
      ],
    });
    // alpha still has no record: beta's does not leak to it.
    const other = await createAs(alpha.token, { goal: 'x', policy_pack: 'lax' });
    expect(other.status).toBe(403);
  });

  it('an idempotent replay returns the clamped run as created', async () => {
    const body = { goal: 'once', budget: { max_steps: 999 } };
    const headers = { 'idempotency-key': 'clamp-once' };
    const first = await createAs(alpha.token, body, headers);
    const again = await createAs(alpha.token, body, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((again.body as Run).budget_clamps).toEqual([
      { limit: 'max_steps', requested: 999, granted: 50, by: 'policy_pack' },
    ]);
  });

  it('records are admin-only and name known packs; each write is audited', async () => {
    const bad = await gw.request('PUT', '/v1/connectors/gamma', {
      json: { allowed_packs: ['default', 'nope'] },
    });
    expect(bad.status, bad.text).toBe(400);
    expect(errorFields(bad)).toEqual(['allowed_packs.1']);
    const tooBig = await gw.request('PUT', '/v1/connectors/gamma', {
      json: { allowed_packs: ['default'], budget_caps: { max_steps: 10_001 } },
    });
    expect(errorFields(tooBig)).toContain('budget_caps.max_steps');
    const byConnector = await gw.request('PUT', '/v1/connectors/alpha', {
      token: alpha.token,
      json: { allowed_packs: ['lax'] },
    });
    expect(byConnector.status).toBe(403);
    expect((await gw.request('GET', '/v1/connectors', { token: alpha.token })).status).toBe(403);
    expect((await gw.request('GET', '/v1/connectors/alpha')).status).toBe(404);

    const listed = await gw.request('GET', '/v1/connectors');
    expect(listed.status).toBe(200);
    expect((listed.body as { connectors: { id: string }[] }).connectors.map((r) => r.id)).toEqual([
      'beta',
    ]);
    expect((await gw.request('GET', '/v1/connectors/beta')).body).toMatchObject({
      budget_caps: { max_steps: 20, max_tokens: 900_000 },
    });
    const audit = await gw.chain('connector.configured');
    expect(audit.map((e) => e.data)).toEqual([
      {
        connector_id: 'beta',
        allowed_packs: ['lax', 'default'],
        budget_caps: { max_steps: 20, max_tokens: 900_000 },
        created: true,
      },
    ]);
  });
});
