import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Run } from '../../../contracts/runs.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { callStepId } from '../../../main/supervisor/run-segment.ts';
import {
  AGENT,
  paused,
  recordedCalls,
  RECORDING_CAPABILITIES,
  recordingSkillCode,
  startExecuteHost,
  type ExecuteTestHost,
} from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const NS = 'once';
const RUN_OP = 'once__act';
const SEND = 'once__send';

const SKILL = manifest(
  'once',
  [
    operation('act', { capabilities: RECORDING_CAPABILITIES }),
    operation('flaky', { capabilities: RECORDING_CAPABILITIES }),
    operation('send', { approval: 'always', capabilities: RECORDING_CAPABILITIES }),
  ],
  { memory_namespaces: [NS] },
);

/** Fails its first run and succeeds after: a re-run would tell a different story. */
const FLAKY_CODE = `export async function flaky() {
  const n = ((await ccos.memory.get('${NS}', 'flaky')) ?? 0) + 1;
  await ccos.memory.put('${NS}', 'flaky', n);
  if (n === 1) throw new Error('the first run fails');
  return { n };
}
`;

/**
 * Tool calls keyed by the LLM's call id run at most once per run: a worker re-issuing a
 * call from its checkpoint gets the recorded outcome, and a call whose run started but
 * never ended is refused with CALL_OUTCOME_UNKNOWN instead of being run again.
 */
describe('tool calls with a call id run at most once', () => {
  let h: ExecuteTestHost;
  const ran = async (op: string) =>
    (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).filter((c) => c.op === op).length;

  /** `ccos.skill.execute` as RunSegment calls it for a worker that sent `callId`. */
  const call = (
    run: Run,
    callId: string,
    tool: string,
    params: Record<string, unknown>,
  ): Promise<ToolCallOutcome> =>
    h.started.pipeline.execute({
      run,
      step_id: callStepId(run.id, callId),
      call_id: callId,
      segment: 0,
      tool,
      params,
      ctx: AGENT,
    });

  const decisions = async (runId: string, rule: string) =>
    (await h.chain('policy.decision')).filter((e) => e.run_id === runId && e.rule_id === rule);

  beforeAll(async () => {
    h = await startExecuteHost();
    await h.install(SKILL, `${recordingSkillCode(NS, ['act', 'send'])}\n${FLAKY_CODE}`);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('a re-issued call is answered from the record, without running again', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = await ran('act');
    const first = await call(run, 'toolu_01', RUN_OP, { n: 1 });
    expect(first).toEqual({ status: 'ok', output: { ran: 'act', input: { n: 1 } } });
    const again = await call(run, 'toolu_01', RUN_OP, { n: 1 });
    expect(again).toEqual(first);
    expect(await ran('act')).toBe(before + 1);
    const replayed = await decisions(run.id, 'call.replayed');
    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatchObject({
      step_id: callStepId(run.id, 'toolu_01'),
      data: { decision: 'replayed', from: 'recorded', outcome: 'ok', call_id: 'toolu_01' },
    });
    // Nothing but the decision is recorded for the replay: one step, one skill.execute.
    const steps = await h.started.runs.steps(run.id);
    expect(steps).toHaveLength(1);
    const executes = (await h.chain('skill.execute')).filter((e) => e.run_id === run.id);
    expect(executes).toHaveLength(1);
  });

  it('a recorded error is replayed with its code and message, not run again', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const first = await call(run, 'call_err', 'once__flaky', {});
    expect(first).toMatchObject({ status: 'error', message: /the first run fails/ });
    expect(await call(run, 'call_err', 'once__flaky', {})).toEqual(first);
    expect(await h.skillMemory(SKILL.skill_id).get(NS, 'flaky')).toBe(1);
    // A new call (a new id) does run it again.
    expect(await call(run, 'call_err2', 'once__flaky', {})).toEqual({
      status: 'ok',
      output: { n: 2 },
    });
  });

  it('a call that started and never ended is refused with CALL_OUTCOME_UNKNOWN', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = await ran('act');
    const stepId = callStepId(run.id, 'toolu_lost');
    // What a host killed mid-call leaves: the step started, no end, no skill.execute entry.
    await h.started.store.db
      .insertInto('steps')
      .values({
        run_id: run.id,
        step_id: stepId,
        segment: 0,
        kind: 'skill',
        summary: `${RUN_OP} {}`,
        tokens: 0,
        started_at: new Date().toISOString(),
        ended_at: null,
        outcome: null,
      })
      .execute();
    expect(await call(run, 'toolu_lost', RUN_OP, {})).toEqual({
      status: 'error',
      code: 'CALL_OUTCOME_UNKNOWN',
      message: 'this call was started before and its outcome is unknown; check before retrying',
    });
    expect(await ran('act')).toBe(before);
    expect(await decisions(run.id, 'call.outcome_unknown')).toHaveLength(1);
    const [step] = await h.started.runs.steps(run.id);
    expect(step).toMatchObject({ step_id: stepId, ended_at: null, outcome: null });
  });

  it('the same tool with the same params under two call ids runs twice', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = await ran('act');
    await call(run, 'call_a', RUN_OP, { same: true });
    await call(run, 'call_b', RUN_OP, { same: true });
    expect(await ran('act')).toBe(before + 2);
    expect(await decisions(run.id, 'call.replayed')).toEqual([]);
  });

  it('a call id reused for a different call is refused and nothing runs', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    await call(run, 'call_x', RUN_OP, { v: 1 });
    const before = await ran('act');
    expect(await call(run, 'call_x', RUN_OP, { v: 2 })).toMatchObject({
      status: 'error',
      code: 'IDEMPOTENCY_CONFLICT',
    });
    expect(await ran('act')).toBe(before);
  });

  it('a call re-issued while it still runs waits for it and runs once', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = await ran('act');
    const [a, b] = await Promise.all([
      call(run, 'call_twin', RUN_OP, { t: 1 }),
      call(run, 'call_twin', RUN_OP, { t: 1 }),
    ]);
    expect(a).toEqual(b);
    expect(a.status).toBe('ok');
    expect(await ran('act')).toBe(before + 1);
    expect(await decisions(run.id, 'call.replayed')).toMatchObject([
      { data: { from: 'still_running' } },
    ]);
  });

  it('a paused call is not final: re-issued after approval it runs once, then replays', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = await ran('send');
    const params = { to: 'ada' };
    const asked = paused(await call(run, 'call_send', SEND, params));
    // The pause is recorded as ended but not final: the re-issue below goes through the gate.
    const decided = await h.decide(asked.approval_id, { decision: 'approve' });
    expect(decided.status).toBe(200);
    const resumed = await h.resume(run.id);
    expect(await call(resumed, 'call_send', SEND, params)).toMatchObject({ status: 'ok' });
    expect(await ran('send')).toBe(before + 1);
    // The worker died before checkpointing the answer: the re-issue replays it.
    expect(await call(resumed, 'call_send', SEND, params)).toMatchObject({ status: 'ok' });
    expect(await ran('send')).toBe(before + 1);
    const [step] = await h.started.runs.steps(run.id);
    expect(step).toMatchObject({ outcome: 'ok' });
    expect(step?.ended_at).not.toBeNull();
  });

  it('a refusal is final: a re-issue after a denial replays the refusal', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const asked = paused(await call(run, 'call_deny', SEND, { to: 'bob' }));
    await h.decide(asked.approval_id, { decision: 'deny', reason: 'not today' });
    const resumed = await h.resume(run.id);
    const refused = await call(resumed, 'call_deny', SEND, { to: 'bob' });
    expect(refused).toMatchObject({ status: 'refused' });
    expect(await call(resumed, 'call_deny', SEND, { to: 'bob' })).toEqual(refused);
  });
});
