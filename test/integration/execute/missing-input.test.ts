import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { Run } from '../../../contracts/runs.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { errorFields, errorOf } from '../gateway/helpers/gateway-host.ts';
import {
  paused,
  recordedCalls,
  RECORDING_CAPABILITIES,
  recordingSkillCode,
  startExecuteHost,
  type ExecuteTestHost,
} from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const NS = 'greeter';
const TOOL = 'greeter__greet';
const TOOL_OFF_LIST = 'greeter__greetOffList';

/** Two required fields: one the allowlisted profile memory fills, one only a person knows. */
const greetInput = (autofillSource: string) => ({
  type: 'object',
  properties: {
    display_name: {
      type: 'string',
      minLength: 1,
      description: 'How to address the person',
      'x-ccos-autofill': autofillSource,
    },
    tone: { type: 'string', description: 'Tone of the greeting', enum: ['warm', 'formal'] },
  },
  required: ['display_name', 'tone'],
  additionalProperties: false,
});

const SKILL = manifest(
  'greeter',
  [
    operation('greet', {
      input_schema: greetInput('memory:profile.display_name'),
      capabilities: RECORDING_CAPABILITIES,
    }),
    // `other` is not on the default pack's allowlist (run.goal, run.id, memory:profile.*).
    operation('greetOffList', {
      input_schema: greetInput('memory:other.display_name'),
      capabilities: RECORDING_CAPABILITIES,
    }),
    // The asked-for field is defined by a local $ref, as schema generators write them.
    operation('greetRef', {
      capabilities: RECORDING_CAPABILITIES,
      input_schema: {
        type: 'object',
        $defs: { tone: { type: 'string', enum: ['warm', 'formal'] } },
        properties: { tone: { $ref: '#/$defs/tone' } },
        required: ['tone'],
      },
    }),
  ],
  // `profile` declared: autofill hands a skill memory of declared namespaces only.
  { memory_namespaces: [NS, 'profile'] },
);

/** Issue 5 acceptance: the person is asked only for what is really missing, once. */
describe('missing input: auto-fill from the allowlist, ask for the rest, execute once', () => {
  let h: ExecuteTestHost;

  beforeAll(async () => {
    h = await startExecuteHost();
    await h.install(SKILL, recordingSkillCode(NS, ['greet', 'greetOffList', 'greetRef']));
    await h.putSharedMemory('profile', 'display_name', 'Ada');
    await h.putSharedMemory('other', 'display_name', 'Mallory');
  });
  afterAll(async () => {
    await h.stop();
  });

  it('asks exactly one question for the one field, validates the answer over HTTP, resumes, runs once, and does not reuse the answer', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);

    const first = paused(await h.execute(run, TOOL, {}));
    const firstStep = h.lastStepId();
    expect(first.missing_fields).toEqual(['tone']);
    expect(first.reason).toMatch(/tone/);
    expect(await h.runState(run.id)).toBe('paused_approval');

    const approvals = await h.started.approvals.list({ run_id: run.id, state: 'pending' });
    expect(approvals).toHaveLength(1);
    const [asked] = approvals as [Approval];
    expect(asked).toMatchObject({ id: first.approval_id, kind: 'missing_input', scope: TOOL });
    expect(asked.request).toMatchObject({
      tool: TOOL,
      // What the agent gave plus the allowed fill; the person sees what will be sent.
      params: { display_name: 'Ada' },
      missing_fields: ['tone'],
      form: [
        {
          name: 'tone',
          type: 'string',
          description: 'Tone of the greeting',
          required: true,
          enum: ['warm', 'formal'],
        },
      ],
    });
    // The paused call is on the chain with its fill, and nothing ran.
    const pausedEntry = await h.executeEntry(run.id, firstStep);
    expect(pausedEntry.data).toMatchObject({
      tool: TOOL,
      outcome: 'paused',
      approval_id: asked.id,
      fills: [{ field: 'display_name', source: 'memory:profile.display_name' }],
    });
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).toEqual([]);

    // Bad answers are 400s naming the field, and change nothing.
    const decisionsBefore = (await h.chain('approval.decision')).length;
    const badAnswers: [Record<string, unknown>, string][] = [
      [{ tone: 'rude' }, 'answer.tone'],
      [{ tone: 7 }, 'answer.tone'],
      [{}, 'answer.tone'],
      [{ tone: 'warm', display_name: 'Eve' }, 'answer.display_name'],
    ];
    for (const [answer, field] of badAnswers) {
      const res = await h.decide(asked.id, { decision: 'approve', answer });
      expect(res.status, JSON.stringify(answer)).toBe(400);
      expect(errorOf(res).code).toBe('INVALID_INPUT');
      expect(errorFields(res), JSON.stringify(answer)).toContain(field);
    }
    expect(await h.approval(asked.id)).toMatchObject({ state: 'pending', answer: null });
    expect(await h.runState(run.id)).toBe('paused_approval');
    expect(await h.chain('approval.decision')).toHaveLength(decisionsBefore);

    const ok = await h.decide(asked.id, { decision: 'approve', answer: { tone: 'warm' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      approval: { id: asked.id, state: 'approved', answer: { tone: 'warm' } },
      run: { id: run.id, state: 'pending' },
    });

    // The worker picks the run up again and the agent retries the very same call.
    const resumed = await h.resume(run.id);
    const retried = await h.execute(resumed, TOOL, {});
    expect(retried).toEqual({
      status: 'ok',
      output: { ran: 'greet', input: { display_name: 'Ada', tone: 'warm' } },
    });
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).toEqual([
      { op: 'greet', input: { display_name: 'Ada', tone: 'warm' } },
    ]);
    const okEntry = await h.executeEntry(run.id, h.lastStepId());
    expect(okEntry.capability_id).toBe('greeter');
    expect(okEntry.data).toMatchObject({
      tool: TOOL,
      outcome: 'ok',
      // The chain names the input by digest; the input itself is a payload (issue 17 #15).
      input: { digest: expect.stringMatching(/^sha256:/) as unknown },
      fills: [{ field: 'display_name', source: 'memory:profile.display_name' }],
    });
    const { items } = await h.started.payloads.transcript(run.id);
    expect(
      items.find((i) => i.step_id === h.lastStepId() && i.kind === 'tool.input'),
    ).toMatchObject({
      digest: (okEntry.data.input as { digest: string }).digest,
      content: { display_name: 'Ada', tone: 'warm' },
    });
    expect(typeof okEntry.data.duration_ms).toBe('number');
    expect((await h.approval(asked.id)).consumed_at).not.toBeNull();

    // The answer allowed one execution: the same call again asks again and runs nothing.
    const again = paused(await h.execute(resumed, TOOL, {}));
    expect(again.approval_id).not.toBe(asked.id);
    expect(again.missing_fields).toEqual(['tone']);
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).toHaveLength(1);
    expect(await h.runState(run.id)).toBe('paused_approval');
  });

  it('ignores an auto-fill source off the allowlist and asks for that field instead', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const outcome = paused(await h.execute(run, TOOL_OFF_LIST, { tone: 'formal' }));
    expect(outcome.missing_fields).toEqual(['display_name']);

    const asked = await h.approval(outcome.approval_id);
    expect(asked.kind).toBe('missing_input');
    expect(asked.request).toMatchObject({
      params: { tone: 'formal' },
      missing_fields: ['display_name'],
      form: [
        {
          name: 'display_name',
          type: 'string',
          description: 'How to address the person',
          required: true,
          enum: null,
        },
      ],
    });
    // The value in the disallowed namespace was never read into the call.
    expect(JSON.stringify(asked)).not.toContain('Mallory');
    const entry = await h.executeEntry(run.id, h.lastStepId());
    expect(entry.data.fills).toEqual([]);
    expect(JSON.stringify(entry.data)).not.toContain('Mallory');

    expect(
      (await h.decide(asked.id, { decision: 'approve', answer: { display_name: 'Grace' } })).status,
    ).toBe(200);
    const resumed: Run = await h.resume(run.id);
    expect(await h.execute(resumed, TOOL_OFF_LIST, { tone: 'formal' })).toMatchObject({
      status: 'ok',
      output: { input: { display_name: 'Grace', tone: 'formal' } },
    });
    expect(
      (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).filter(
        (c) => c.op === 'greetOffList',
      ),
    ).toEqual([{ op: 'greetOffList', input: { display_name: 'Grace', tone: 'formal' } }]);
  });

  it('a person declining to answer is a refusal the agent hears once, not a question asked again', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).length;
    const asked = paused(await h.execute(run, TOOL, {}));
    const denied = await h.decide(asked.approval_id, {
      decision: 'deny',
      reason: 'do not greet anyone today',
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ run: { state: 'pending' } });

    const resumed = await h.resume(run.id);
    const refused = await h.execute(resumed, TOOL, {});
    expect(refused.status).toBe('refused');
    expect(refused).toMatchObject({
      reason: expect.stringMatching(/do not greet anyone today/) as unknown,
    });
    expect(await h.runState(run.id)).toBe('running');
    expect(await h.started.approvals.list({ run_id: run.id, state: 'pending' })).toEqual([]);
    expect((await h.approval(asked.approval_id)).consumed_at).not.toBeNull();
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).toHaveLength(before);
  });

  it('answers a field defined by a local $ref against its definition', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const asked = paused(await h.execute(run, 'greeter__greetRef', {}));
    expect((await h.approval(asked.approval_id)).request.form).toEqual([
      { name: 'tone', type: 'string', description: null, required: true, enum: ['warm', 'formal'] },
    ]);
    const bad = await h.decide(asked.approval_id, { decision: 'approve', answer: { tone: 'x' } });
    expect(bad.status).toBe(400);
    expect(errorFields(bad)).toEqual(['answer.tone']);
    const ok = await h.decide(asked.approval_id, { decision: 'approve', answer: { tone: 'warm' } });
    expect(ok.status).toBe(200);
    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, 'greeter__greetRef', {})).toMatchObject({
      status: 'ok',
      output: { input: { tone: 'warm' } },
    });
  });

  it('a given value is never overwritten by a fill, and a complete call runs without asking', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const before = (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).length;
    expect(await h.execute(run, TOOL, { display_name: 'Linus', tone: 'formal' })).toMatchObject({
      status: 'ok',
      output: { input: { display_name: 'Linus', tone: 'formal' } },
    });
    expect((await h.executeEntry(run.id, h.lastStepId())).data.fills).toEqual([]);
    expect(await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).toHaveLength(before + 1);
    expect(await h.started.approvals.list({ run_id: run.id, state: 'pending' })).toEqual([]);
    expect(await h.runState(run.id)).toBe('running');
  });
});
