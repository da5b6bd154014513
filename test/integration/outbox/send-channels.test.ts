import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Approval } from '../../../contracts/approvals.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { Run } from '../../../contracts/runs.ts';
import { signInbound } from '../../../main/connectors/inbound-auth.ts';
import { SEND_MESSAGE_TOOL } from '../../../main/outbox/send-message-definition.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { startOutboxReceiver, type OutboxReceiver } from '../../support/outbox-receiver.ts';
import { AGENT, startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';

/** A pack that lets its runs send to one more channel than their own. */
const LISTING: PolicyPack = {
  ...NO_OPERATION_APPROVALS,
  id: 'lists-ch-9',
  outbound_channels: [{ connector_id: 'hook', channel_id: 'ch-9' }],
};

/**
 * Which channels a run may send to (issue 23): its own session's, and those its pack lists;
 * anything else is `egress.channel`. `reply_to_message` names a message of the run's session
 * and the host takes the channel from its envelope, so the agent never handles the metadata.
 */
describe('ccos__send_message channels', () => {
  let h: ExecuteTestHost;
  let receiver: OutboxReceiver;
  /** The run the webhook message created, in that channel's session. */
  let connectorRun: Run;
  let messageId: string;
  let steps = 0;

  /** The agent's call, from an answer whose window saw only public data. */
  const send = (run: Run, params: Record<string, unknown>): Promise<ToolCallOutcome> =>
    h.started.pipeline.execute({
      run,
      step_id: `stp_send_${String(++steps)}`,
      segment: 0,
      tool: SEND_MESSAGE_TOOL,
      params,
      ctx: AGENT,
      window: { label: PUBLIC, taint: 'trusted', sources: [], argument_sources: {} },
    });
  const queuedFor = async (runId: string): Promise<{ channel_id: string }[]> =>
    h.started.store.db
      .selectFrom('outbox')
      .select('channel_id')
      .where('run_id', '=', runId)
      .execute();
  const refusals = async (runId: string): Promise<(string | null)[]> =>
    (await h.chain('policy.decision'))
      .filter((e) => e.run_id === runId && e.data.action === 'outbound.send')
      .map((e) => e.rule_id);

  beforeAll(async () => {
    receiver = await startOutboxReceiver(() => ({ status: 200 }));
    h = await startExecuteHost({ allowLoopbackHttp: true, policyPacks: [LISTING] });
    const put = await h.request('PUT', '/v1/connectors/hook/adapter', {
      json: {
        adapter: 'webhook',
        inbound_auth: { mode: 'hmac' },
        template: { goal: 'Answer the message' },
        outbound_url: receiver.url,
      },
    });
    expect(put.status, put.text).toBe(200);
    const secret = (put.body as { secret: string }).secret;
    const body = JSON.stringify({
      id: 'ext-42',
      channel_id: 'ch-7',
      chat_type: 'direct',
      sender_id: 'alice',
      text: 'is the build green?',
    });
    const ts = String(Date.now());
    const posted = await h.request('POST', '/v1/connectors/hook/inbound', {
      token: null,
      raw: body,
      headers: {
        'content-type': 'application/json',
        'x-ccos-timestamp': ts,
        'x-ccos-signature': signInbound(secret, ts, Buffer.from(body)),
      },
    });
    expect(posted.status, posted.text).toBe(202);
    messageId = (posted.body as InboundResult).message_id;
    const approvals = (await h.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const channel = approvals.approvals.find(
      (a) => a.kind === 'channel' && a.scope === 'hook/ch-7',
    );
    expect((await h.decide(channel?.id ?? '', { decision: 'approve' })).status).toBe(200);
    const routed = (await h.chain('message.routed')).find(
      (e) => e.data.message_id === messageId && e.data.outcome === 'created_run',
    );
    connectorRun = await h.resume(routed?.run_id ?? '');
  });
  afterAll(async () => {
    await h.stop();
    await receiver.close();
  });

  it('answers a message by its id: the host sends to its channel, replying to its external id', async () => {
    const arrived = receiver.nextRequest();
    const outcome = await send(connectorRun, {
      reply_to_message: messageId,
      text: 'yes, it is green',
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('ok');
    const request = await arrived;
    expect(request.body).toMatchObject({
      channel_id: 'ch-7',
      reply_to: 'ext-42',
      text: 'yes, it is green',
    });
  });

  it('lets a run name its own session’s channel', async () => {
    const outcome = await send(connectorRun, {
      connector_id: 'hook',
      channel_id: 'ch-7',
      text: 'one more thing',
    });
    expect(outcome.status).toBe('ok');
    expect(await refusals(connectorRun.id)).toEqual([]);
  });

  it('refuses another channel, with egress.channel, queueing nothing', async () => {
    const outcome = await send(connectorRun, {
      connector_id: 'hook',
      channel_id: 'ch-8',
      text: 'hello stranger',
    });
    expect(outcome.status).toBe('refused');
    expect(await refusals(connectorRun.id)).toEqual(['egress.channel']);
    expect((await queuedFor(connectorRun.id)).map((r) => r.channel_id)).not.toContain('ch-8');
  });

  it('refuses a run outside the session: neither its channel nor its message is the run’s', async () => {
    const other = await h.runningRun('a run of the person’s own');
    const byName = await send(other, { connector_id: 'hook', channel_id: 'ch-7', text: 'hi' });
    const byMessage = await send(other, { reply_to_message: messageId, text: 'hi' });
    const unknown = await send(other, { reply_to_message: 'msg_unknown', text: 'hi' });
    expect([byName.status, byMessage.status, unknown.status]).toEqual([
      'refused',
      'refused',
      'refused',
    ]);
    // Another session's message reads exactly like an unknown one: no oracle for message ids.
    const reason = (o: ToolCallOutcome): string =>
      o.status === 'refused' ? o.reason.replace(/msg_\w+/, 'ID') : '';
    expect(reason(byMessage)).toBe(reason(unknown));
    expect(await refusals(other.id)).toEqual([
      'egress.channel',
      'egress.channel',
      'egress.channel',
    ]);
    expect(await queuedFor(other.id)).toEqual([]);
  });

  it('lets a run send to a channel its pack lists, and no other', async () => {
    const run = await h.runningRun('post the release notes', LISTING.id);
    expect(
      (await send(run, { connector_id: 'hook', channel_id: 'ch-9', text: 'released' })).status,
    ).toBe('ok');
    expect(
      (await send(run, { connector_id: 'hook', channel_id: 'ch-7', text: 'released' })).status,
    ).toBe('refused');
    expect((await queuedFor(run.id)).map((r) => r.channel_id)).toEqual(['ch-9']);
  });

  it('refuses a call that names both a message and a channel', async () => {
    const outcome = await send(connectorRun, {
      reply_to_message: messageId,
      connector_id: 'hook',
      channel_id: 'ch-8',
      text: 'which one?',
    });
    expect(outcome).toMatchObject({ status: 'error', code: 'INVALID_INPUT' });
  });
});
