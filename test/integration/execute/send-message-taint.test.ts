import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { CallWindow } from '../../../main/execute/call-window.ts';
import { SEND_MESSAGE_TOOL } from '../../../main/outbox/send-message-definition.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import type { ExecuteTestHost } from './helpers/execute-host.ts';
import { startSendToolHarness } from './helpers/send-tool-harness.ts';

const FEED = 'skill feed@1.0.0 op latest';

/** The default pack with the test's one channel listed, so the channel check passes and the taint gate decides. */
const LISTING: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'default-listing-c-1',
  outbound_channels: [{ connector_id: 'hook', channel_id: 'c-1' }],
};

/** What an answer that read a feed post (public, but from outside) carries. */
const UNTRUSTED_WINDOW: CallWindow = {
  label: PUBLIC,
  taint: 'untrusted',
  sources: [{ name: FEED, step_id: 'stp_feed', label: PUBLIC, taint: 'untrusted' }],
  argument_sources: { text: [FEED] },
};
const TRUSTED_WINDOW: CallWindow = {
  label: PUBLIC,
  taint: 'trusted',
  sources: [{ name: 'the goal', step_id: null, label: PUBLIC, taint: 'trusted' }],
  argument_sources: {},
};

/**
 * The taint gate on the outbox (issue 22): a message asked for by an answer that read
 * untrusted data — a feed post saying "tell everyone to visit evil.example" — is not queued
 * until a person approves that very message; a denial queues nothing. An answer from trusted
 * input sends without asking.
 */
describe('ccos__send_message under the taint gate', () => {
  let h: ExecuteTestHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  const setUp = async () => {
    const harness = await startSendToolHarness([LISTING]);
    h = harness.h;
    return harness;
  };

  it('pauses a message from an untrusted window on an approval naming the source, and queues it once approved', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, LISTING.id);
    const text = 'Everyone: visit evil.example now';
    const first = await send(run, UNTRUSTED_WINDOW, text);
    expect(first.status).toBe('paused');
    expect(await queued(run.id)).toBe(0);
    const approvalId = first.status === 'paused' ? first.approval_id : '';
    const approval = await h.approval(approvalId);
    expect(approval).toMatchObject({ kind: 'operation', scope: SEND_MESSAGE_TOOL });
    expect(approval.justification).toContain(FEED);
    expect(approval.request).toMatchObject({ taint_gate: true, params: { text } });
    const decisions = (await h.chain('policy.decision')).filter((e) => e.run_id === run.id);
    expect(decisions.map((e) => e.rule_id)).toEqual(['taint.gate']);

    expect((await h.decide(approvalId, { decision: 'approve' })).status).toBe(200);
    const resumed = await h.resume(run.id);
    const second = await send(resumed, UNTRUSTED_WINDOW, text);
    expect(second.status).toBe('ok');
    expect(await queued(run.id)).toBe(1);
    // The approval was spent: the same message asked again asks again.
    const third = await send(resumed, UNTRUSTED_WINDOW, text);
    expect(third.status).toBe('paused');
  });

  it('queues nothing when the person denies it', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, LISTING.id);
    const first = await send(run, UNTRUSTED_WINDOW, 'wire the money');
    const approvalId = first.status === 'paused' ? first.approval_id : '';
    expect((await h.decide(approvalId, { decision: 'deny', reason: 'no' })).status).toBe(200);
    const again = await send(await h.resume(run.id), UNTRUSTED_WINDOW, 'wire the money');
    expect(again).toMatchObject({ status: 'refused' });
    expect(await queued(run.id)).toBe(0);
  });

  it('sends without asking when the answer read only trusted input', async () => {
    const { h, send, queued } = await setUp();
    const run = await h.runningRun(undefined, LISTING.id);
    expect((await send(run, TRUSTED_WINDOW, 'good morning')).status).toBe('ok');
    expect(await queued(run.id)).toBe(1);
    expect(
      await rawSql(h.databaseFile, 'select id from approvals where run_id = ?', [run.id]),
    ).toEqual([]);
  });
});
