import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { CallWindow } from '../../../main/execute/call-window.ts';
import { SEND_MESSAGE_TOOL } from '../../../main/outbox/send-message-definition.ts';
import { label } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import type { ExecuteTestHost } from '../execute/helpers/execute-host.ts';
import { HOOK, LOCAL_CHAT, startSendToolHarness } from '../execute/helpers/send-tool-harness.ts';

const SUMMARY = 'transform summarize';
const CHANNELS = [
  { connector_id: HOOK, channel_id: 'c-1' },
  { connector_id: LOCAL_CHAT, channel_id: 'c-1' },
];
/** The default pack, with the test's channels listed: its exceptions include the outbound one. */
const DEFAULT_LISTING: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'default-listing',
  outbound_channels: CHANNELS,
};
/** Like the shipped `strict` pack: no egress exception, so personal data never leaves. */
const NO_EXCEPTIONS: PolicyPack = {
  ...DEFAULT_LISTING,
  id: 'no-exceptions',
  egress_exceptions: [],
};
/** A pack switching off egress by label for skills cannot switch off the constitution here. */
const OFF: PolicyPack = { ...DEFAULT_LISTING, id: 'egress-off', egress_label: 'off' };
const EXCEPTION_RULE = 'exception.redacted_to_outbound_connector';

/** An answer whose window held a summary of the person's message, from the person (trusted). */
const REDACTED_WINDOW: CallWindow = {
  label: label('pii.redacted'),
  taint: 'trusted',
  sources: [{ name: SUMMARY, step_id: 'stp_sum', label: label('pii.redacted'), taint: 'trusted' }],
  argument_sources: { text: [SUMMARY] },
};
/** An answer that saw the raw message itself. */
const RAW_WINDOW: CallWindow = {
  label: label('pii.chat.message'),
  taint: 'trusted',
  sources: [
    { name: 'the message', step_id: null, label: label('pii.chat.message'), taint: 'trusted' },
  ],
  argument_sources: {},
};

/**
 * Issue 23, CHAT-SECURITY-CONTRACT.md "Egress": outbound messages carry public or *approved*
 * `pii.redacted` content, and `pii.redacted` leaves only under an explicit policy exception.
 * A summary of a person's message sent to a webhook is asked of a person (the very text
 * shown) under the default pack's exception, each time, and refused by a pack without one;
 * no pack setting skips the approval. The local chat UI is on this machine and is not egress.
 * Raw content is refused before anyone is asked.
 */
describe('ccos__send_message and pii.redacted content', () => {
  let h: ExecuteTestHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });
  const setUp = async () => {
    const harness = await startSendToolHarness([DEFAULT_LISTING, NO_EXCEPTIONS, OFF]);
    h = harness.h;
    return harness;
  };
  const decisionsOf = async (host: ExecuteTestHost, runId: string) =>
    (await host.chain('policy.decision')).filter((e) => e.run_id === runId);
  const approvalsOf = async (host: ExecuteTestHost, runId: string) =>
    (await host.request('GET', `/v1/approvals?run_id=${runId}`)).body as {
      approvals: unknown[];
    };

  it('asks a person for each message under the default pack, showing the text, and queues it once approved', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, DEFAULT_LISTING.id);
    const text = 'Thanks, noted: a delivery on Thursday';
    const first = await send(run, REDACTED_WINDOW, text);
    expect(first.status).toBe('paused');
    expect(await queued(run.id)).toBe(0);
    const approval = await h.approval(first.status === 'paused' ? first.approval_id : '');
    expect(approval).toMatchObject({ kind: 'operation', scope: SEND_MESSAGE_TOOL });
    expect(approval.request).toMatchObject({
      egress_label: true,
      taint_gate: false,
      params: { text },
    });
    expect(approval.justification).toContain('pii.redacted');
    expect(approval.justification).toContain(SUMMARY);
    expect((await decisionsOf(h, run.id)).map((d) => d.rule_id)).toEqual([EXCEPTION_RULE]);

    expect((await h.decide(approval.id, { decision: 'approve' })).status).toBe(200);
    const resumed = await h.resume(run.id);
    expect((await send(resumed, REDACTED_WINDOW, text)).status).toBe('ok');
    expect(await queued(run.id)).toBe(1);
    // Spent: the next message is asked again.
    expect((await send(resumed, REDACTED_WINDOW, text)).status).toBe('paused');
  });

  it('queues nothing when the person denies it', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, DEFAULT_LISTING.id);
    const first = await send(run, REDACTED_WINDOW, 'Noted: Thursday');
    const approvalId = first.status === 'paused' ? first.approval_id : '';
    expect((await h.decide(approvalId, { decision: 'deny', reason: 'no' })).status).toBe(200);
    expect(await send(await h.resume(run.id), REDACTED_WINDOW, 'Noted: Thursday')).toMatchObject({
      status: 'refused',
    });
    expect(await queued(run.id)).toBe(0);
  });

  it('refuses it under a pack with no egress exception, and asks no one', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, NO_EXCEPTIONS.id);
    const out = await send(run, REDACTED_WINDOW, 'Thanks, noted: a delivery on Thursday');
    expect(out).toMatchObject({ status: 'refused' });
    expect(out.status === 'refused' ? out.reason : '').toContain('outbound_connector');
    expect(await queued(run.id)).toBe(0);
    expect((await approvalsOf(h, run.id)).approvals).toEqual([]);
  });

  it('still asks under egress_label: off: no pack setting releases it unseen', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, OFF.id);
    expect((await send(run, REDACTED_WINDOW, 'Noted: Thursday')).status).toBe('paused');
    expect(await queued(run.id)).toBe(0);
  });

  it('sends it to the local chat UI without asking: the person reads it on this machine', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, DEFAULT_LISTING.id);
    const out = await send(run, REDACTED_WINDOW, 'Noted: Thursday', {
      connector_id: LOCAL_CHAT,
      channel_id: 'c-1',
    });
    expect(out.status).toBe('ok');
    expect(await queued(run.id)).toBe(1);
    expect((await approvalsOf(h, run.id)).approvals).toEqual([]);
  });

  it('refuses raw message content before asking anyone, under the exception and to the local chat alike', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, DEFAULT_LISTING.id);
    for (const connector of [HOOK, LOCAL_CHAT]) {
      const out = await send(run, RAW_WINDOW, 'Thursday, 7 am', {
        connector_id: connector,
        channel_id: 'c-1',
      });
      expect(out).toMatchObject({ status: 'refused' });
    }
    expect(await queued(run.id)).toBe(0);
    expect((await approvalsOf(h, run.id)).approvals).toEqual([]);
    expect((await decisionsOf(h, run.id)).map((d) => d.rule_id)).toEqual([
      'egress.label',
      'egress.label',
    ]);
  });
});
