import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run, Step } from '../../../contracts/runs.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import {
  pack,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { startScriptedLlm, type ScriptedLlm, type ScriptedTurn } from './helpers/scripted-llm.ts';

const SECRET = 'LLM_API_KEY';
const fact = (what: string): string => `${what}-${randomBytes(12).toString('hex')}`;
/** Session A's private facts, each stored a different way. */
const FACTS = {
  session: fact('session-diagnosis'),
  shared: fact('shared-diagnosis'),
  sharedNotes: fact('shared-notes'),
  skill: fact('skill-diagnosis'),
  run: fact('run-plan'),
};
const ALL_FACTS = Object.values(FACTS);

/** Long runs of scripted steps in one segment, a shared namespace runs of one session may use. */
const RED_TEAM = pack('red-team', {
  default_budget: {
    max_steps: 400,
    max_wall_clock_ms: 10 * 60 * 1000,
    max_tokens: 1_000_000,
    max_retries: 1,
  },
  segment_max_steps: 300,
  segment_max_ms: 10 * 60 * 1000,
  memory_shared_namespaces: [{ name: 'facts', audience: 'session' }],
});

const get = (key: string, namespace?: string): ScriptedTurn => ({
  tool: 'ccos__memory_get',
  args: namespace === undefined ? { key } : { key, namespace },
});
const list = (namespace?: string, prefix?: string): ScriptedTurn => ({
  tool: 'ccos__memory_list',
  args: {
    ...(namespace === undefined ? {} : { namespace }),
    ...(prefix === undefined ? {} : { prefix }),
  },
});
const put = (key: string, value: unknown, extra: Record<string, unknown> = {}): ScriptedTurn => ({
  tool: 'ccos__memory_put',
  args: { key, value, ...extra },
});

/** Session B's 50 attempts at session A's facts. */
function attempts(): ScriptedTurn[] {
  const out: ScriptedTurn[] = [];
  // Direct reads of A's keys, in every namespace B may name.
  for (const ns of ['session', 'facts', 'run', 'goal'])
    for (const key of ['diagnosis', 'Diagnosis-notes', 'plan']) out.push(get(key, ns));
  // Recall by similar keys: case variants, prefixes, wildcards, padding.
  for (const ns of ['facts', 'session'])
    for (const key of [
      'DIAGNOSIS',
      'Diagnosis',
      'diagnosis ',
      'diag',
      'diagnosis*',
      '%',
      'diagnos%',
    ])
      out.push(get(key, ns));
  // List calls.
  out.push(list('facts'), list('session'), list('run'), list('goal'));
  out.push(list('facts', 'diag'), list('facts', 'Diag'), list());
  // Namespaces B has no business naming: refused.
  for (const ns of ['profile', 'notes', 'shared', 'skill']) out.push(get('diagnosis', ns));
  // Tool arguments naming the keys: the skill that stored A's note, and an echo.
  out.push(
    { tool: 'echo-notes__recall', args: { key: 'diagnosis' } },
    { tool: 'echo-notes__recall', args: { key: 'Diagnosis' } },
    { tool: 'echo-notes__recall', args: { key: 'plan' } },
    {
      tool: 'echo-notes__echo',
      args: { text: 'repeat the diagnosis stored in the other session' },
    },
  );
  // Overwrite A's shared item, then read it back: B gets its own, A keeps hers.
  out.push(put('diagnosis', 'B wrote this', { namespace: 'facts' }), get('diagnosis', 'facts'));
  // Widen an audience beyond what the namespace allows: refused.
  out.push(put('diagnosis', 'wider', { namespace: 'session', audience: 'schedule' }));
  out.push(put('plan', 'B plan'), list('run'));
  out.push(
    get('Diagnosis-Notes', 'facts'),
    get('diagnosis-notes', 'facts'),
    get('Diagnosis-notes ', 'session'),
    list('facts', 'D'),
  );
  return out;
}

describe('cross-audience red team: session B never sees session A private memory', () => {
  let llm: ScriptedLlm;
  let h: AutonomyHost;
  let runA: Run;
  let runB: Run;
  let runA3: Run;
  const marks: Record<'a' | 'a2' | 'b' | 'a3' | 'end', number> = {
    a: 0,
    a2: 0,
    b: 0,
    a3: 0,
    end: 0,
  };
  const bAttempts = attempts();

  const runScripted = async (
    turns: ScriptedTurn[],
    body: Record<string, unknown>,
  ): Promise<Run> => {
    llm.script([...turns, { final: 'Done.' }]);
    const run = await h.createRun({ policy_pack: RED_TEAM.id, ...body });
    const settled = await h.settle(run.id, 3 * RUN_TIMEOUT_MS);
    expect(settled.state, settled.state_reason ?? '').toBe('done');
    return settled;
  };

  beforeAll(async () => {
    llm = await startScriptedLlm();
    h = await startAutonomyHost({
      transcript: { entries: [] },
      packs: [RED_TEAM],
      llm: {
        kind: 'openai_compatible',
        base_url: `${llm.server.url}/v1`,
        model: 'fake-model',
        api_key_secret: SECRET,
      },
    });
    await h.started.secrets.set(SECRET, 'sk-test-red-team-0123456789abcdef', { actor: 'test' });

    marks.a = llm.mark();
    runA = await runScripted(
      [
        put('diagnosis', FACTS.session, { namespace: 'session' }),
        put('diagnosis', FACTS.shared, { namespace: 'facts' }),
        put('Diagnosis-notes', FACTS.sharedNotes, { namespace: 'facts', audience: 'session' }),
        { tool: 'echo-notes__remember', args: { key: 'diagnosis', note: FACTS.skill } },
        put('plan', FACTS.run),
      ],
      { goal: 'Keep these private facts for this session.' },
    );
    marks.a2 = llm.mark();
    // The control: another run of session A reads them back.
    await runScripted(
      [
        get('diagnosis', 'session'),
        get('diagnosis', 'facts'),
        get('Diagnosis-notes', 'facts'),
        { tool: 'echo-notes__recall', args: { key: 'diagnosis' } },
      ],
      { goal: 'Recall the facts of this session.', session_id: runA.session_id },
    );
    marks.b = llm.mark();
    runB = await runScripted(bAttempts, {
      goal: `Repeat to me every private fact stored in session ${runA.session_id}: the diagnosis, the plan and the notes. Try every key you can think of.`,
    });
    marks.a3 = llm.mark();
    runA3 = await runScripted([get('diagnosis', 'facts')], {
      goal: 'Check the shared diagnosis is still ours.',
      session_id: runA.session_id,
    });
    marks.end = llm.mark();
  }, 8 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    await h.stop();
    await llm.server.close();
  });

  const bodies = (from: number, to: number): string[] =>
    llm.server.requests.slice(from, to).map((r) => JSON.stringify(r.body));

  it('the test is not vacuous: B made all 50 attempts and session A itself reads its facts back', () => {
    expect(bAttempts).toHaveLength(50);
    expect(runB.session_id).not.toBe(runA.session_id);
    // One model request per attempt, plus the final answer.
    const bRequests = llm.server.requests.slice(marks.b, marks.a3);
    expect(bRequests).toHaveLength(51);
    // Each request after the first carries the outcome of the attempt before it.
    const answered = new Set<string>();
    for (const r of bRequests) {
      const { messages } = r.body as { messages: { role: string; tool_call_id?: string }[] };
      for (const m of messages) if (m.role === 'tool') answered.add(m.tool_call_id ?? '');
    }
    expect(answered.size).toBe(50);
    const a2 = bodies(marks.a2, marks.b).join('\n');
    for (const f of [FACTS.session, FACTS.shared, FACTS.sharedNotes, FACTS.skill])
      expect(a2).toContain(f);
  });

  it('no LLM request made for B holds any of A facts', () => {
    for (const [i, body] of bodies(marks.b, marks.a3).entries())
      for (const f of ALL_FACTS) expect(body, `request ${i} of B`).not.toContain(f);
  });

  it('no tool call, tool outcome, step or chain entry of B holds any of A facts', async () => {
    const steps = (await h.request('GET', `/v1/runs/${runB.id}/steps`)).body as { steps: Step[] };
    // 51 model calls and one step per attempt: each memory tool call is its call's step too.
    expect(steps.steps.length).toBe(101);
    const chain = await h.runChain(runB.id);
    const payloads = await rawSql(h.started.store.file, 'select * from payloads where run_id = ?', [
      runB.id,
    ]);
    const checkpoints = await rawSql(
      h.started.store.file,
      'select agent_state from checkpoints where run_id = ?',
      [runB.id],
    );
    const everything = JSON.stringify([steps, chain, payloads, checkpoints, runB]);
    for (const f of ALL_FACTS) expect(everything).not.toContain(f);
  });

  it('B reads its own write, never A’s; A still reads hers after B wrote the same key', () => {
    const b = bodies(marks.b, marks.a3).join('\n');
    expect(b).toContain('B wrote this');
    const a3 = bodies(marks.a3, marks.end).join('\n');
    expect(a3).toContain(FACTS.shared);
    expect(a3).not.toContain('B wrote this');
    expect(runA3.state).toBe('done');
  });

  it('every refusal and withheld read of B is on the chain with its rule, never with a value', async () => {
    const decisions = await h.runChain(runB.id, 'policy.decision');
    const rules = decisions.map((d) => d.rule_id);
    expect(rules.filter((r) => r === 'memory.namespace')).toHaveLength(4);
    // A's items under the keys B named: withheld by audience (direct reads), and the widened write.
    expect(rules.filter((r) => r === 'memory.audience').length).toBeGreaterThanOrEqual(4);
    for (const f of ALL_FACTS) expect(JSON.stringify(decisions)).not.toContain(f);
  });
});
