import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalKind } from '../../../contracts/approvals.ts';
import type { Grant, GrantBasis } from '../../../contracts/grants.ts';
import type { Run } from '../../../contracts/runs.ts';
import { grantBasisOf } from '../../../main/execute/grant-basis.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { skillDigest } from '../../../main/skills/package/skill-digest.ts';
import { errorOf } from '../gateway/helpers/gateway-host.ts';
import { AGENT, paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const POST = 'poster__post';
const SKILL = manifest('poster', [operation('post', { approval: 'always' })]);
const CODE = `export async function post(input) { return { posted: input }; }`;
/** A pack that lets a person make standing grants of taint-gated calls. */
const TAINT_GRANTS = { ...DEFAULT_POLICY_PACK, id: 'taint-grants', grants_allow_taint_gated: true };

/**
 * Issue 22: what is never standing. The taint gate (another part of the issue) marks its
 * approvals `request.taint_gate: true`; these tests ask such approvals through the approval
 * service directly, as that gate will.
 */
describe('standing grants policy refuses', () => {
  let h: ExecuteTestHost;

  beforeAll(async () => {
    h = await startExecuteHost({ policyPacks: [TAINT_GRANTS] });
    await h.install(SKILL, CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  /** What the gate would record for a call of `post` whose request is `request`. */
  function basisFor(request: Record<string, unknown>): GrantBasis {
    const skill = h.started.skillRegistry.list().find((s) => s.skill_id === 'poster');
    const op = skill?.operations.find((o) => o.id === 'post');
    if (skill === undefined || op === undefined) throw new Error('poster is not loaded');
    const pkg = h.started.skillRegistry.packageOf('poster');
    return grantBasisOf({
      kind: 'operation',
      tool: POST,
      skill,
      op,
      skillDigest: skillDigest(pkg.manifest, pkg.code),
      permissionDiff: [{ permission: 'execute', to: POST }],
      request,
    });
  }

  async function ask(
    run: Run,
    kind: ApprovalKind,
    request: Record<string, unknown>,
    basis?: GrantBasis,
  ): Promise<string> {
    const { approval } = await h.started.approvals.requestAndPause(
      {
        run_id: run.id,
        step_id: 'step_tainted',
        kind,
        scope: POST,
        justification: 'the agent wants to post text a feed item suggested',
        permission_diff: [{ permission: 'execute', to: POST }],
        request,
        rule_id: kind === 'operation' ? 'taint.gate' : `test.${kind}`,
        ...(basis === undefined ? {} : { grant_basis: basis }),
      },
      AGENT,
    );
    return approval.id;
  }

  const TAINTED = { tool: POST, params: { text: 'buy now' }, taint_gate: true };

  it('a taint-gated call is never granted standing under the default pack, and says why', async () => {
    const run = await h.runningRun();
    const id = await ask(run, 'operation', TAINTED, basisFor(TAINTED));
    const res = await h.decide(id, { decision: 'approve', grant: { scope: 'run', uses: 5 } });
    expect(res.status).toBe(403);
    expect(errorOf(res)).toMatchObject({
      code: 'GRANT_NOT_ALLOWED',
      details: { rule_id: 'grants.taint_gated' },
    });
    expect((await h.approval(id)).state).toBe('pending');
    const denial = (await h.chain('policy.decision')).find((e) => e.data.approval_id === id);
    expect(denial).toMatchObject({ rule_id: 'grants.taint_gated', data: { decision: 'deny' } });
    expect(await h.started.grants.list({ run_id: run.id })).toEqual([]);

    // The one call may still be approved.
    expect((await h.decide(id, { decision: 'approve' })).status).toBe(200);
  });

  it('a pack that allows it lets a taint-gated call be granted, and that grant covers only taint-gated calls', async () => {
    const run = await h.runningRun(undefined, TAINT_GRANTS.id);
    const basis = basisFor(TAINTED);
    const id = await ask(run, 'operation', TAINTED, basis);
    const res = await h.decide(id, { decision: 'approve', grant: { scope: 'run' } });
    expect(res.status).toBe(200);
    const { grant } = res.body as { grant: Grant };
    expect(grant).toMatchObject({ taint_gated: true, state: 'active' });

    // A call the taint gate did not ask about is another question: the grant does not answer it.
    const resumed = await h.resume(run.id);
    paused(await h.execute(resumed, POST, { text: 'plain' }));

    // The same taint-gated question is answered by it.
    const current = await h.started.runs.get(run.id);
    const used = await h.started.chain.transact((tx) =>
      h.started.grants.useIn(tx, basis, { run: current, step_id: 'step_again', ctx: AGENT }),
    );
    expect(used).toMatchObject({ id: grant.id, uses: 1 });
  });

  it('a taint-gated grant is not used once the run is under a pack that does not allow it', async () => {
    const run = await h.runningRun();
    const basis = basisFor(TAINTED);
    // As if made under a pack that allowed it: the gate checks the pack again at each use.
    await h.started.store.db
      .insertInto('grants')
      .values({
        id: 'grt_forged',
        approval_id: await ask(run, 'operation', TAINTED, basis),
        kind: 'operation',
        scope: 'run',
        run_id: run.id,
        schedule_id: null,
        grant_key: basis.key,
        tool: POST,
        skill_id: 'poster',
        skill_version: '1.0.0',
        permission_diff: '[]',
        taint_gated: 1,
        max_uses: null,
        uses: 0,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        created_by: 'admin',
        created_at: new Date().toISOString(),
        revoked_at: null,
        revoked_by: null,
        last_used_at: null,
      })
      .execute();
    const current = await h.started.runs.get(run.id);
    const used = await h.started.chain.transact((tx) =>
      h.started.grants.useIn(tx, basis, { run: current, step_id: 'step_x', ctx: AGENT }),
    );
    expect(used).toBeUndefined();
  });

  for (const [kind, words] of [
    ['budget', /budget approval is never standing/],
    ['declassify', /declassify approval is never standing/],
    ['missing_input', /only operation approvals can/],
  ] as const) {
    it(`a ${kind} approval is never granted standing`, async () => {
      const run = await h.runningRun();
      const id = await ask(run, kind, { tool: POST });
      const res = await h.decide(id, { decision: 'approve', grant: { scope: 'run' } });
      expect(res.status).toBe(403);
      const error = errorOf(res);
      expect(error).toMatchObject({
        code: 'GRANT_NOT_ALLOWED',
        details: { rule_id: 'grants.kind' },
      });
      expect(error.message).toMatch(words);
      expect((await h.approval(id)).state).toBe('pending');
    });
  }

  it('an approval asked before grants existed (no basis) is refused as standing', async () => {
    const run = await h.runningRun();
    const id = await ask(run, 'operation', { tool: POST });
    const res = await h.decide(id, { decision: 'approve', grant: { scope: 'run' } });
    expect(res.status).toBe(403);
    expect(errorOf(res).details).toEqual({ rule_id: 'grants.no_basis' });
  });
});
