import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryItem } from '../../../contracts/memory.ts';
import { startJsonService, type JsonService } from '../../support/json-service.ts';
import type { Run, Step } from '../../../contracts/runs.ts';
import { callStepId } from '../../../main/supervisor/call-step-id.ts';
import type {
  CannedResponse,
  RecordedRequest,
  RecordingServer,
} from '../llm/recording-http-server.ts';
import { pack, RUN_TIMEOUT_MS, type AutonomyHost } from './helpers/autonomy-host.ts';
import { finalAnswer, sentMessages, toolCallAnswer } from './helpers/scripted-openai.ts';
import { startScriptedSkillHost, type ScriptedSkillHost } from './helpers/skill-service-host.ts';

/** A sentence only the raw message holds: wherever it shows up, raw content leaked. */
const RAW_SENTENCE = 'The spare key to flat 4b is under the blue flowerpot by the back door';
const MESSAGE = `${RAW_SENTENCE}. Could you please collect the parcel from the concierge tomorrow? Call me on +44 20 7946 0958 or write to mira.k@example.org.`;
const JUSTIFICATION = 'the person asked what came in';

/**
 * Under the default pack's label rules (taint gate and egress by label on), with the one
 * exception a pack may make for a remote provider: it may see `pii.redacted`. `WITHHOLDING`
 * is the same pack without the exception.
 */
const EXPOSING = pack('e2e-exposing', {
  taint_gate: undefined,
  egress_label: undefined,
  llm_remote_labels: ['pii.redacted'],
});
const WITHHOLDING = pack('e2e-withholding', { taint_gate: undefined, egress_label: undefined });

/** Where the memory item's value is said to come from, in windows, envelopes and placeholders. */
const MEMORY_SOURCE = 'memory session/parcel';

/** A local service the agent could post to: it must receive nothing. */
type Notify = JsonService & { received: unknown[] };

async function startNotify(): Promise<Notify> {
  const received: unknown[] = [];
  const service = await startJsonService(({ body }) => {
    received.push(body);
    return { sent: true };
  });
  return { ...service, received };
}

/** A declarative skill with an origin: its `send` reaches the network. */
function notifySkill(origin: string): string {
  return [
    'name: Notify',
    'skill_id: notify',
    'version: 1.0.0',
    'description: Send a notification.',
    `base_url: ${origin}/api`,
    'operations:',
    '  - id: send',
    '    method: POST',
    '    path: /send',
    '    description: Send a notification.',
    '    approval: never',
    '    output_label: public',
    '    parameters:',
    '      - { name: text, in: body, type: string, required: true }',
  ].join('\n');
}

/** The last tool message of a request, out of its untrusted-data envelope when it has one. */
function lastTool(request: RecordedRequest): { content: string; enveloped: string | undefined } {
  const tool = sentMessages(request)
    .filter((m) => m.role === 'tool')
    .at(-1);
  const content = String(tool?.content);
  const quoted = /^<untrusted-data source="([^"]*)">\n([\s\S]*)\n<\/untrusted-data>$/.exec(content);
  return { content: quoted?.[2] ?? content, enveloped: quoted?.[1] };
}

/** Each model turn answers the request it gets (it may copy what that request carries). */
type Turn = (request: RecordedRequest) => CannedResponse;

/**
 * Issue 22's end-to-end label test: a value's label and taint followed from a quarantined
 * chat message (ingested as a connector will) through a transform, into governed memory, into
 * the prompts of later runs (the bytes at a provider declared remote), to a skill egress that
 * is denied — with the label on the record at every hop. Real host, real SQLite, real worker
 * processes, a real declarative skill against a real local service, and a scripted
 * OpenAI-compatible server.
 */
describe('a label followed from a quarantined message to a denied egress', () => {
  let h: AutonomyHost;
  let llm: RecordingServer;
  let notify: Notify;
  let started: ScriptedSkillHost;
  const turns: Turn[] = [];
  let sessionId: string;
  let contentRef: string;
  let runs: { writer: Run; reader: Run; withheld: Run };
  /** Where each run's requests start in `llm.requests`. */
  const marks: Record<string, number> = {};
  let summary = '';

  beforeAll(async () => {
    notify = await startNotify();
    started = await startScriptedSkillHost({
      script: (request) => {
        const turn = turns.shift();
        try {
          return turn?.(request) ?? finalAnswer();
        } catch (e) {
          // A turn that cannot read what it copies ends the run; the assertions then say why.
          return finalAnswer(`the script broke: ${String(e)}`);
        }
      },
      packs: [EXPOSING, WITHHOLDING],
      skillYaml: notifySkill(notify.origin),
      location: 'remote',
    });
    ({ host: h, llm } = started);

    // The connector's part: a session, and the message sealed into quarantine with its label.
    const session = await h.request('POST', '/v1/sessions', {});
    expect(session.status, session.text).toBe(201);
    sessionId = (session.body as { id: string }).id;
    contentRef = (
      await h.started.quarantine.ingest(
        {
          session_id: sessionId,
          sender_id: 'U0451XQ',
          channel_id: 'C-home',
          content: MESSAGE,
          label: 'pii.chat.message',
        },
        { actor: 'connector:test' },
      )
    ).content_ref;

    // Run 1 summarises the message and remembers the summary for the session.
    turns.push(
      () =>
        toolCallAnswer('t1', 'ccos__transform_summarize', {
          content_ref: contentRef,
          justification: JUSTIFICATION,
        }),
      (request) => {
        const outcome = JSON.parse(lastTool(request).content) as {
          output: { output: { summary: string } };
        };
        summary = outcome.output.output.summary;
        return toolCallAnswer('m1', 'ccos__memory_put', {
          key: 'parcel',
          value: summary,
          namespace: 'session',
        });
      },
      () => finalAnswer('Remembered.'),
    );
    const settle = async (
      body: Record<string, unknown>,
      mark: string,
      approveOnce = false,
    ): Promise<Run> => {
      marks[mark] = llm.requests.length;
      const created = await h.createRun({ session_id: sessionId, ...body });
      if (approveOnce) {
        // The write is asked from a window holding the transform's untrusted output: the
        // taint gate holds it until the person approves (issue 22).
        const paused = await h.waitForState(created.id, ['paused_approval']);
        const view = await h.getRun(paused.id);
        const [approval] = view.pending_approvals;
        const decided = await h.request('POST', `/v1/approvals/${approval?.id ?? ''}`, {
          decision: 'approve',
        });
        expect(decided.status, decided.text).toBe(200);
      }
      const run = await h.settle(created.id);
      expect(run.state, run.state_reason ?? '').toBe('done');
      return run;
    };
    const writer = await settle(
      { goal: 'Summarise what came in and remember it.', policy_pack: EXPOSING.id },
      'writer',
      true,
    );

    // Run 2 recalls it and, as a hostile message might ask, tries to send it out.
    turns.push(
      () => toolCallAnswer('m2', 'ccos__memory_get', { key: 'parcel', namespace: 'session' }),
      (request) => {
        const outcome = JSON.parse(lastTool(request).content) as { output: { value: string } };
        return toolCallAnswer('n1', 'notify__send', { text: outcome.output.value });
      },
      () => finalAnswer('I could not send it.'),
    );
    const reader = await settle(
      { goal: 'Send me what you remembered.', policy_pack: EXPOSING.id },
      'reader',
    );

    // Run 3 recalls it under a pack that withholds pii.redacted from a remote provider.
    turns.push(
      () => toolCallAnswer('m3', 'ccos__memory_get', { key: 'parcel', namespace: 'session' }),
      () => finalAnswer('It is withheld.'),
    );
    const withheld = await settle(
      { goal: 'What did you remember?', policy_pack: WITHHOLDING.id },
      'withheld',
    );
    marks.end = llm.requests.length;
    runs = { writer, reader, withheld };
  }, 4 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    await started.stop();
    await notify.close();
  });

  const steps = async (run: Run): Promise<Step[]> =>
    ((await h.request('GET', `/v1/runs/${run.id}/steps`)).body as { steps: Step[] }).steps;
  const step = async (run: Run, callId: string): Promise<Step | undefined> =>
    (await steps(run)).find((s) => s.step_id === callStepId(run.id, callId));
  /** The LLM step whose answer asked for `callId`: the step before that call's own. */
  const askingLlmStep = async (run: Run, callId: string): Promise<Step | undefined> => {
    const all = await steps(run);
    const i = all.findIndex((s) => s.step_id === callStepId(run.id, callId));
    return all
      .slice(0, i)
      .filter((s) => s.kind === 'llm')
      .at(-1);
  };
  const requests = (from: string, to: string): RecordedRequest[] =>
    llm.requests.slice(marks[from], marks[to]);

  it('the script ran as written: three requests per run, and the transform asked no model', () => {
    expect(summary.length).toBeGreaterThan(0);
    expect(requests('writer', 'reader')).toHaveLength(3);
    expect(requests('reader', 'withheld')).toHaveLength(2 + 1);
    expect(requests('withheld', 'end')).toHaveLength(2);
    // A provider declared remote never gets message text, not even for a transform.
    for (const r of llm.requests) {
      expect(r.text).not.toContain('<message>');
      expect(r.text).not.toContain('blue flowerpot');
      expect(r.text).not.toContain('mira.k@example.org');
    }
  });

  it('hop 1: the quarantined message is read only by the transform, with its label audited', async () => {
    const accesses = await h.runChain(runs.writer.id, 'quarantine.access');
    expect(accesses).toHaveLength(1);
    expect(accesses[0]).toMatchObject({
      step_id: callStepId(runs.writer.id, 't1'),
      data: { content_ref: contentRef, label: 'pii.chat.message' },
    });
    const outputs = await h.runChain(runs.writer.id, 'transform.output');
    expect(outputs[0]?.data).toMatchObject({ content_ref: contentRef, label: 'pii.redacted' });
  });

  it('hop 2: the transform’s step carries pii.redacted and untrusted, and the model sees it quoted', async () => {
    expect(await step(runs.writer, 't1')).toMatchObject({
      output_label: ['pii.redacted'],
      output_taint: 'untrusted',
    });
    const second = requests('writer', 'reader')[1] as RecordedRequest;
    const tool = lastTool(second);
    expect(tool.enveloped).toBe('transform summarize');
    expect(tool.content).toContain(summary);
  });

  it('hop 3: the answer that wrote memory joined its window, and the memory row carries it', async () => {
    expect(await askingLlmStep(runs.writer, 'm1')).toMatchObject({
      output_label: ['pii.redacted'],
      output_taint: 'untrusted',
    });
    const listed = await h.request('GET', `/v1/memory?session_id=${sessionId}`);
    const item = (listed.body as { items: MemoryItem[] }).items.find((i) => i.key === 'parcel');
    expect(item).toMatchObject({
      value: summary,
      label: ['pii.redacted'],
      taint: 'untrusted',
      run_id: runs.writer.id,
      source: { kind: 'agent', id: runs.writer.id, version: null },
    });
    const writes = await h.runChain(runs.writer.id, 'memory.write');
    expect(writes).toHaveLength(1);
    const asked = await h.runChain(runs.writer.id, 'approval.request');
    expect(asked.map((e) => [e.rule_id, e.data.scope])).toEqual([
      ['taint.gate', 'ccos__memory_put'],
    ]);
    expect(JSON.stringify(writes)).not.toContain(summary);
  });

  it('hop 4: a later run’s read is its call’s step with the item’s label, quoted in its prompt', async () => {
    expect(await step(runs.reader, 'm2')).toMatchObject({
      output_label: ['pii.redacted'],
      output_taint: 'untrusted',
      output_source: MEMORY_SOURCE,
    });
    const second = requests('reader', 'withheld')[1] as RecordedRequest;
    const tool = lastTool(second);
    expect(tool.enveloped).toBe(MEMORY_SOURCE);
    expect(tool.content).toContain(summary);
    expect(await askingLlmStep(runs.reader, 'n1')).toMatchObject({
      output_label: ['pii.redacted'],
      output_taint: 'untrusted',
    });
  });

  it('hop 5: the skill egress asked from that window is denied with egress.label, and nothing is sent', async () => {
    expect(notify.received).toEqual([]);
    const decisions = await h.runChain(runs.reader.id, 'policy.decision');
    const denied = decisions.filter((d) => d.rule_id === 'egress.label');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ step_id: callStepId(runs.reader.id, 'n1') });
    expect(JSON.stringify(denied[0]?.data)).toContain(MEMORY_SOURCE);
    const third = requests('reader', 'withheld')[2] as RecordedRequest;
    expect(JSON.parse(lastTool(third).content)).toMatchObject({ status: 'refused' });
    expect(await step(runs.reader, 'n1')).toMatchObject({ output_taint: 'trusted' });
  });

  it('under a pack without the exception, the same item reaches the provider as a placeholder', async () => {
    const second = requests('withheld', 'end')[1] as RecordedRequest;
    expect(lastTool(second).content).toBe(`[withheld: pii.redacted from ${MEMORY_SOURCE}]`);
    expect(second.text).not.toContain(summary);
    expect(await step(runs.withheld, 'm3')).toMatchObject({ output_label: ['pii.redacted'] });
  });
});
