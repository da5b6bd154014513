import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import { REDACTED_PATTERN } from '../../../main/policy/redactor.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { errorOf } from '../gateway/helpers/gateway-host.ts';
import {
  paused,
  recordedCalls,
  RECORDING_CAPABILITIES,
  recordingSkillCode,
  startExecuteHost,
  type ExecuteTestHost,
} from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const NS = 'mailer';
/** A pack that asks about no capability: only a manifest's `approval: always` asks then. */
const LAX_PACK = NO_OPERATION_APPROVALS.id;
const SEND = 'mailer__send';
/** Looks like an OpenAI key: the pattern layer must mask it though no store knows it. */
const KEY_LIKE = 'sk-proj-Zq81xY7LmN0pQrStUvWx42ab';

const SKILL = manifest(
  'mailer',
  [
    operation('send', {
      approval: 'always',
      capabilities: RECORDING_CAPABILITIES,
      input_schema: {
        type: 'object',
        properties: {
          to: { type: 'string', format: 'email' },
          body: { type: 'string' },
        },
        required: ['to', 'body'],
        additionalProperties: false,
      },
    }),
    // `approval: policy`: the default pack asks for net.http and memory.write, not compute.pure.
    operation('lookup', {
      approval: 'policy',
      capabilities: ['net.http', ...RECORDING_CAPABILITIES],
    }),
    operation('count', { approval: 'policy', capabilities: ['compute.pure'] }),
    // A skill author's wish not to be asked: the pack decides for net.http, not the manifest.
    operation('sneak', { approval: 'never', capabilities: ['net.http'] }),
  ],
  { memory_namespaces: [NS] },
);

/** Issue 5 acceptance: approve executes once, reject is a refusal, decisions are final. */
describe('operation approvals', () => {
  let h: ExecuteTestHost;
  const sends = async () =>
    (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).filter((c) => c.op === 'send');

  beforeAll(async () => {
    h = await startExecuteHost();
    // `count` is pure, so it records nothing (recording writes memory, which it may not).
    await h.install(
      SKILL,
      `${recordingSkillCode(NS, ['send', 'lookup'])}
export async function count(input) { return { ran: 'count', input }; }
export async function sneak(input) { return { ran: 'sneak', input }; }
`,
    );
  });
  afterAll(async () => {
    await h.stop();
  });

  it('shows redacted params, runs once on approval, and a replayed retry asks again', async () => {
    const run = await h.runningRun();
    const params = { to: 'ada@example.com', body: `the key is ${KEY_LIKE}` };

    const asked = paused(await h.execute(run, SEND, params));
    expect(asked.missing_fields).toBeUndefined();
    expect(await h.runState(run.id)).toBe('paused_approval');
    const got = await h.request('GET', `/v1/approvals/${asked.approval_id}`);
    expect(got.status).toBe(200);
    const approval = got.body as Approval;
    expect(approval).toMatchObject({ kind: 'operation', scope: SEND, state: 'pending' });
    expect(approval.request).toEqual({
      tool: SEND,
      params: { to: 'ada@example.com', body: `the key is ${REDACTED_PATTERN}` },
      fills: [],
    });
    expect(got.text).not.toContain(KEY_LIKE);
    expect(approval.permission_diff).toContainEqual({ permission: 'execute', to: SEND });
    expect(await sends()).toEqual([]);

    const decided = await h.decide(approval.id, { decision: 'approve' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ run: { state: 'pending' } });

    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, SEND, params)).toEqual({
      status: 'ok',
      output: {
        ran: 'send',
        input: { to: 'ada@example.com', body: `the key is ${REDACTED_PATTERN}` },
      },
    });
    // The skill itself got the real params; only what is shown and stored is redacted.
    expect(await sends()).toEqual([{ op: 'send', input: params }]);

    const replay = paused(await h.execute(resumed, SEND, params));
    expect(replay.approval_id).not.toBe(approval.id);
    expect(await sends()).toHaveLength(1);
    expect(await h.runState(run.id)).toBe('paused_approval');
  });

  it('a rejection comes back as a refusal with the reason, and nothing runs', async () => {
    const run = await h.runningRun();
    const params = { to: 'grace@example.com', body: 'hello' };
    const before = (await sends()).length;

    const asked = paused(await h.execute(run, SEND, params));
    const denied = await h.decide(asked.approval_id, {
      decision: 'deny',
      reason: 'not to that address',
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ approval: { state: 'denied' }, run: { state: 'pending' } });

    const resumed = await h.resume(run.id);
    const refused = await h.execute(resumed, SEND, params);
    expect(refused).toEqual({
      status: 'refused',
      reason: expect.stringContaining('not to that address') as unknown,
    });
    expect(await h.executeEntry(run.id, h.lastStepId())).toMatchObject({
      capability_id: 'mailer',
      data: { tool: SEND, outcome: 'refused' },
    });
    expect(await sends()).toHaveLength(before);

    // The refusal was delivered once; the same call again is a new question, not a new refusal.
    const again = paused(await h.execute(resumed, SEND, params));
    expect(again.approval_id).not.toBe(asked.approval_id);
    expect(await sends()).toHaveLength(before);
  });

  it('a scope narrowed by the person (modify) does not run the call it no longer covers', async () => {
    const run = await h.runningRun();
    const params = { to: 'eve@example.com', body: 'hi' };
    const before = (await sends()).length;
    const asked = paused(await h.execute(run, SEND, params));
    const modified = await h.decide(asked.approval_id, {
      decision: 'modify',
      scope: 'mailer__send to colleagues only',
    });
    expect(modified.status).toBe(200);
    expect(modified.body).toMatchObject({ approval: { state: 'modified' } });

    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, SEND, params)).toEqual({
      status: 'refused',
      reason: expect.stringContaining('mailer__send to colleagues only') as unknown,
    });
    expect(await sends()).toHaveLength(before);
  });

  it('a duplicate or replayed decision is a 409 CONFLICT and changes nothing', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, SEND, { to: 'linus@example.com', body: 'hi' }));
    const first = await h.decide(asked.approval_id, { decision: 'approve', reason: 'fine' });
    expect(first.status).toBe(200);
    const decided = await h.approval(asked.approval_id);
    const decisions = (await h.chain('approval.decision')).length;
    const transitions = (await h.chain('run.transition')).length;

    for (const body of [
      { decision: 'approve', reason: 'fine' },
      { decision: 'deny', reason: 'changed my mind' },
      { decision: 'modify', scope: 'mailer__send to nobody' },
    ]) {
      const res = await h.decide(asked.approval_id, body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(errorOf(res)).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringMatching(/already decided/) as unknown,
      });
    }
    expect(await h.approval(asked.approval_id)).toEqual(decided);
    expect(await h.chain('approval.decision')).toHaveLength(decisions);
    expect(await h.chain('run.transition')).toHaveLength(transitions);
    expect(await h.runState(run.id)).toBe('pending');
  });

  it('approval: policy asks for net.http under the default pack and not for compute.pure', async () => {
    const run = await h.runningRun();
    const lookup = paused(await h.execute(run, 'mailer__lookup', { q: 'x' }));
    expect((await h.approval(lookup.approval_id)).kind).toBe('operation');
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).not.toContainEqual(
      expect.objectContaining({ op: 'lookup' }),
    );

    const other = await h.runningRun();
    expect(await h.execute(other, 'mailer__count', { n: 1 })).toEqual({
      status: 'ok',
      output: { ran: 'count', input: { n: 1 } },
    });
    expect(await h.started.approvals.list({ run_id: other.id })).toEqual([]);
    expect(await h.runState(other.id)).toBe('running');
  });

  it('the pack is a floor: approval: never does not skip the question the pack asks (issue 17 #3)', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, 'mailer__sneak', { q: 'x' }));
    const approval = await h.approval(asked.approval_id);
    expect(approval).toMatchObject({ kind: 'operation', scope: 'mailer__sneak' });
    // Stopped at the gate: the step never reached the sandbox.
    expect(await h.executeEntry(run.id, h.lastStepId())).toMatchObject({
      data: { tool: 'mailer__sneak', outcome: 'paused' },
    });

    // Under a pack that asks about nothing, the manifest can still raise the floor...
    const lax = await h.runningRun(undefined, LAX_PACK);
    expect(paused(await h.execute(lax, SEND, { to: 'ada@example.com', body: 'hi' }))).toBeDefined();
    // ...and `never` runs without asking only there.
    const other = await h.runningRun(undefined, LAX_PACK);
    expect(await h.execute(other, 'mailer__sneak', { q: 'y' })).toMatchObject({ status: 'ok' });
    expect(await h.started.approvals.list({ run_id: other.id })).toEqual([]);
  });
});
