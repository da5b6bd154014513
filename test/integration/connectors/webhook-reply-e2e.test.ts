import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import type { Run } from '../../../contracts/runs.ts';
import { SEND_MESSAGE_TOOL } from '../../../main/outbox/send-message-definition.ts';
import type {
  CannedResponse,
  RecordedRequest,
  RecordingServer,
} from '../llm/recording-http-server.ts';
import {
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';
import {
  finalAnswer,
  sentMessages,
  startScriptedLlm,
  toolCallAnswer,
} from '../autonomy/helpers/scripted-openai.ts';
import {
  lastToolContent,
  pointersIn,
  replyingAgentHost,
  REPLYING,
  summarizeNewest,
  summaryIn,
} from './helpers/summarize-reply.ts';
import { startOutboxReceiver, type OutboxReceiver } from '../../support/outbox-receiver.ts';
import { postSignedInbound } from '../../support/signed-inbound.ts';

/** A sentence only the raw messages hold: wherever it shows up, raw content leaked. */
const CANARY = 'The vault code for the Harrow Street depot is 7731 and nobody else may know it';
const FIRST = `${CANARY}. Please confirm the delivery window for Thursday morning.`;
/** The second message's own canary: it must not leak either. */
const SECOND = 'Marigold lantern sixteen opens the side entrance. Could the driver ring ahead?';
const CHANNEL = 'chan-e2e';
/**
 * Issue 23's end-to-end acceptance: a signed webhook message over real HTTP wakes an agent
 * (its channel approved first); the agent — a scripted OpenAI-compatible server on 127.0.0.1
 * that acts only on what each request carries — reads the message through
 * `ccos__transform_summarize` given its pointer and answers through `ccos__send_message`; the
 * outbox delivers to a real receiver with an Idempotency-Key. The raw text is in no request
 * the LLM server received, no log line and no chain entry.
 */
describe('a webhook message answered through the outbox, end to end', () => {
  let h: AutonomyHost;
  let llm: RecordingServer;
  let receiver: OutboxReceiver;
  let secret: string;
  const logLines: string[] = [];
  let run: Run;
  /** Each summary the agent was shown, in order; each reply quotes one. */
  const summaries: string[] = [];
  let resumedBy: InboundResult;

  const script = (request: RecordedRequest): CannedResponse => {
    const first = summarizeNewest(request, 'to answer the sender');
    if (first !== undefined) return first;
    const got = summaryIn(lastToolContent(request));
    if (got !== undefined) {
      summaries.push(got);
      return toolCallAnswer(`r-${String(summaries.length)}`, SEND_MESSAGE_TOOL, {
        connector_id: 'hook',
        channel_id: CHANNEL,
        text: `Thanks, noted: ${got}`,
      });
    }
    // Replied to the first message: wait for the next one (a second reply ends the run).
    if (lastToolContent(request).includes('outbox_id') && summaries.length === 1)
      return toolCallAnswer('w-1', 'ccos__resume_later', { until_message: true });
    return finalAnswer(`Answered (${lastToolContent(request).slice(0, 200)}).`);
  };

  const post = async (message: Record<string, unknown>): Promise<InboundResult> => {
    const res = await postSignedInbound(
      `${h.started.gateway.url}/v1/connectors/hook/inbound`,
      secret,
      message,
    );
    expect(res.status).toBe(202);
    return (await res.json()) as InboundResult;
  };
  const allChain = async (): Promise<ChainEntry[]> => {
    const entries: ChainEntry[] = [];
    let after = 0;
    for (;;) {
      const page = await h.started.chain.query({ after_seq: after, limit: 1000 });
      entries.push(...page.entries);
      if (page.next_after_seq === null) return entries;
      after = page.next_after_seq;
    }
  };

  /** Each send approval the person was asked, in order, as the inbox showed it. */
  const sendApprovals: Approval[] = [];
  /**
   * Resolves once the next send approval is asked (the run then waits for it), and approves it
   * as the person would after reading the message as it would leave.
   */
  const approveNextSend = (): Promise<void> => {
    const asked = h.waitForEntry(
      (e) =>
        e.event_type === 'approval.request' &&
        e.data.scope === SEND_MESSAGE_TOOL &&
        !sendApprovals.some((a) => a.id === e.data.approval_id),
    );
    return (async () => {
      const entry = await asked;
      const shown = await h.request('GET', `/v1/approvals/${String(entry.data.approval_id)}`);
      expect(shown.status, shown.text).toBe(200);
      sendApprovals.push(shown.body as Approval);
      const decided = await h.request('POST', `/v1/approvals/${String(entry.data.approval_id)}`, {
        decision: 'approve',
        reason: 'the summary may go back to the sender',
      });
      expect(decided.status, decided.text).toBe(200);
    })();
  };

  beforeAll(async () => {
    llm = await startScriptedLlm(script);
    receiver = await startOutboxReceiver(() => ({ status: 200 }));
    h = await startAutonomyHost({
      ...replyingAgentHost(llm.url),
      logDestination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const record = await h.request('PUT', '/v1/connectors/hook', { allowed_packs: [REPLYING.id] });
    expect(record.status, record.text).toBe(200);
    const put = await h.request('PUT', '/v1/connectors/hook/adapter', {
      adapter: 'webhook',
      inbound_auth: { mode: 'hmac' },
      template: {
        goal: 'Answer the sender of the message',
        budget: { max_steps: 12 },
        policy_pack: REPLYING.id,
      },
      outbound_url: receiver.url,
    });
    expect(put.status, put.text).toBe(200);
    secret = (put.body as { secret: string }).secret;

    const held = await post({
      id: 'm-1',
      channel_id: CHANNEL,
      chat_type: 'direct',
      sender_id: 'sam',
      text: FIRST,
    });
    expect(held.outcome).toBe('waiting_channel_approval');
    expect(llm.requests).toHaveLength(0);
    const list = (await h.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const channel = list.approvals.find(
      (a) => a.kind === 'channel' && a.scope === `hook/${CHANNEL}`,
    );
    const arrived = receiver.nextRequest();
    const created = h.waitForEntry(
      (e) => e.event_type === 'message.routed' && e.data.outcome === 'created_run',
    );
    const firstSend = approveNextSend();
    const decided = await h.request('POST', `/v1/approvals/${channel?.id ?? ''}`, {
      decision: 'approve',
    });
    expect(decided.status, decided.text).toBe(200);
    const runId = (await created).run_id ?? '';
    await firstSend;
    await arrived;
    const waiting = await h.waitForState(runId, ['paused_external_event', 'done', 'failed']);
    expect(waiting.state, waiting.state_reason ?? '').toBe('paused_external_event');
    const second = receiver.nextRequest();
    const secondSend = approveNextSend();
    resumedBy = await post({
      id: 'm-2',
      channel_id: CHANNEL,
      chat_type: 'direct',
      sender_id: 'sam',
      text: SECOND,
    });
    await secondSend;
    await second;
    run = await h.settle(runId);
  }, 3 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    await h.stop();
    await llm.close();
    await receiver.close();
  });

  it('the agent was woken by the message and read it only through summarize, given its pointer', async () => {
    expect(run.state, run.state_reason ?? '').toBe('done');
    expect(run.policy_pack).toBe(REPLYING.id);
    expect(summaries).toHaveLength(2);
    const first = llm.requests[0] as RecordedRequest;
    expect(pointersIn(first)).toHaveLength(1);
    const accesses = await h.runChain(run.id, 'quarantine.access');
    expect(accesses.map((a) => a.data.label)).toEqual(['pii.chat.message', 'pii.chat.message']);
    expect(accesses[0]?.data.content_ref).toBe(pointersIn(first)[0]);
    const outputs = await h.runChain(run.id, 'transform.output');
    expect(outputs[0]?.data).toMatchObject({ label: 'pii.redacted' });
  });

  it('the raw text is in no request the LLM server received, no log line, no chain entry', async () => {
    expect(llm.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of llm.requests) {
      expect(r.text).not.toContain('Harrow Street');
      expect(r.text).not.toContain('depot is 7731');
      expect(r.text).not.toContain('Marigold');
    }
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain('Harrow Street');
    expect(logLines.join('')).not.toContain('Marigold');
    const chain = JSON.stringify(await allChain());
    expect(chain).not.toContain('Harrow Street');
    expect(chain).not.toContain('depot is 7731');
    expect(chain).not.toContain('Marigold');
  });

  it('each reply reached the receiver once, with its Idempotency-Key, and carries only its summary', () => {
    expect(receiver.requests).toHaveLength(2);
    receiver.requests.forEach((delivered, i) => {
      expect(delivered.key).toMatch(/^ccos:/);
      expect(delivered.body).toMatchObject({
        channel_id: CHANNEL,
        idempotency_key: delivered.key,
        text: `Thanks, noted: ${summaries[i] ?? ''}`,
      });
      expect(JSON.stringify(delivered.body)).not.toMatch(/Harrow Street|Marigold/);
    });
    expect(new Set(receiver.requests.map((r) => r.key)).size).toBe(2);
  });

  it('each reply was queued with the label of the window that wrote it, pii.redacted, only after a person approved that very message', async () => {
    const queued = await h.runChain(run.id, 'outbox.queued');
    expect(queued.map((q) => q.data.label)).toEqual([['pii.redacted'], ['pii.redacted']]);
    // CHAT-SECURITY-CONTRACT.md: outbound messages carry "approved pii.redacted" content.
    expect(sendApprovals).toHaveLength(2);
    sendApprovals.forEach((a, i) => {
      expect(a).toMatchObject({ kind: 'operation', scope: SEND_MESSAGE_TOOL, run_id: run.id });
      // The person read the message as it would leave, and why it asks.
      expect(a.request).toMatchObject({
        egress_label: true,
        taint_gate: true,
        params: { text: `Thanks, noted: ${summaries[i] ?? ''}` },
      });
      expect(a.justification).toContain('pii.redacted');
      expect(JSON.stringify(a)).not.toMatch(/Harrow Street|Marigold|depot is 7731/);
    });
    const decisions = await h.runChain(run.id, 'approval.decision');
    const queuedSeqs = queued.map((q) => q.seq);
    sendApprovals.forEach((a, i) => {
      const decision = decisions.find((d) => d.data.approval_id === a.id);
      expect(decision?.data.decision).toBe('approve');
      expect(decision?.seq ?? Infinity).toBeLessThan(queuedSeqs[i] ?? -1);
    });
  });

  it('a second message resumes the run waiting for it, and its agent is shown the new envelope, not the text', async () => {
    expect(resumedBy).toMatchObject({ outcome: 'resumed_run', run_id: run.id });
    const transitions = await h.runChain(run.id, 'run.transition');
    expect(transitions.some((t) => t.data.to === 'paused_external_event')).toBe(true);
    // The first request after the resume carries the arrival note with the second pointer.
    const firstPointer = pointersIn(llm.requests[0] as RecordedRequest)[0];
    const resumed = llm.requests.find((r) => pointersIn(r).length === 2);
    expect(resumed).toBeDefined();
    const note = sentMessages(resumed as RecordedRequest).at(-1);
    expect(note?.role).toBe('user');
    expect(String(note?.content)).toContain('a new inbound message arrived');
    const [, secondPointer] = pointersIn(resumed as RecordedRequest);
    expect(secondPointer).not.toBe(firstPointer);
    const accesses = await h.runChain(run.id, 'quarantine.access');
    expect(accesses.map((a) => a.data.content_ref)).toEqual([firstPointer, secondPointer]);
    // The note is the host's word, not a person's: no pii.chat.message joins the window.
    expect((await h.runChain(run.id, 'policy.decision')).map((d) => d.rule_id)).not.toContain(
      'egress.label',
    );
  });
});
