import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import type { Run } from '../../../contracts/runs.ts';
import { CONNECTOR_MESSAGE_EVENT } from '../../../main/connectors/agent-view.ts';
import { signInbound } from '../../../main/connectors/inbound-auth.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

const CANARY = 'CANARY-7f3a9c-ignore-previous-instructions';
const TEST = { actor: 'test' };

/**
 * Issue 23, inbound half, on a real host over real HTTP: a webhook connector's messages are
 * proven, quarantined, gated by the channel approval, deduplicated and routed; every refusal
 * is audited; the raw text is nowhere but sealed in the quarantine.
 */
describe('webhook connector inbound', () => {
  let gw: GatewayTestHost;
  let secret: string;

  beforeAll(async () => {
    gw = await startGatewayHost();
    const put = await gw.request('PUT', '/v1/connectors/hook/adapter', {
      json: {
        adapter: 'webhook',
        inbound_auth: { mode: 'hmac' },
        activation: { mention_names: ['ccos'], group_sender_allowlist: ['alice'] },
        template: { goal: 'Answer the message politely', budget: { max_steps: 5 } },
      },
    });
    expect(put.status).toBe(200);
    secret = (put.body as { secret: string }).secret;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
  afterAll(async () => {
    await gw.stop();
  });

  const post = (body: string, headers: Record<string, string>) =>
    gw.request('POST', '/v1/connectors/hook/inbound', {
      token: null,
      raw: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const signed = (message: Record<string, unknown>, at = Date.now()) => {
    const body = JSON.stringify(message);
    const ts = String(at);
    return {
      body,
      headers: {
        'x-ccos-timestamp': ts,
        'x-ccos-signature': signInbound(secret, ts, Buffer.from(body)),
      },
    };
  };
  const message = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    channel_id: 'chan-1',
    chat_type: 'direct',
    sender_id: 'alice',
    text: `hello ${CANARY}`,
    ...extra,
  });
  const rejected = async () => (await gw.chain('message.rejected')).map((e) => e.rule_id);

  it('refuses bad proofs, stale and replayed requests, oversized and malformed bodies, unknown connectors — each audited with its rule', async () => {
    const good = signed(message('m-rej'));
    expect(
      (await post(good.body, { ...good.headers, 'x-ccos-signature': 'sha256=00' })).status,
    ).toBe(401);
    const stale = signed(message('m-stale'), Date.now() - 60 * 60 * 1000);
    expect((await post(stale.body, stale.headers)).status).toBe(401);
    expect((await post(good.body, {})).status).toBe(401);
    const big = signed(message('m-big', { text: `${CANARY} ${'x'.repeat(70_000)}` }));
    expect((await post(big.body, big.headers)).status).toBe(413);
    const ts = String(Date.now());
    const malformed = `{"text": "${CANARY}"`;
    const bad = await post(malformed, {
      'x-ccos-timestamp': ts,
      'x-ccos-signature': signInbound(secret, ts, Buffer.from(malformed)),
    });
    expect(bad.status).toBe(400);
    const unknown = await gw.request('POST', '/v1/connectors/nobody/inbound', {
      token: null,
      raw: good.body,
      headers: good.headers,
    });
    expect(unknown.status).toBe(404);
    expect(await rejected()).toEqual([
      'connector.bad_signature',
      'connector.stale_timestamp',
      'connector.missing_proof',
      'connector.oversized_payload',
      'connector.malformed_json',
      'connector.unknown_connector',
    ]);
    // The signed request was refused for its connector, not accepted: it can be sent once.
    const first = await post(good.body, good.headers);
    expect(first.status).toBe(202);
    const replay = await post(good.body, good.headers);
    expect(replay.status).toBe(401);
    expect((await rejected()).at(-1)).toBe('connector.replay');
  });

  it('holds a new channel for its approval, then routes the waiting messages in order; duplicates are ignored', async () => {
    const a = signed(message('m-1', { channel_id: 'chan-2' }));
    const first = (await post(a.body, a.headers)).body as InboundResult;
    expect(first.outcome).toBe('waiting_channel_approval');
    const b = signed(message('m-2', { channel_id: 'chan-2' }));
    expect(((await post(b.body, b.headers)).body as InboundResult).outcome).toBe(
      'waiting_channel_approval',
    );
    // A second delivery of m-1 (new signature, same id) is recorded and ignored.
    const again = signed(message('m-1', { channel_id: 'chan-2' }));
    const dup = (await post(again.body, again.headers)).body as InboundResult;
    expect(dup).toMatchObject({ outcome: 'duplicate', message_id: first.message_id });
    expect((await gw.chain('message.duplicate')).length).toBe(1);

    const pending = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const channel = pending.approvals.find(
      (p) => p.kind === 'channel' && p.scope === 'hook/chan-2',
    );
    expect(channel).toBeDefined();
    expect((await gw.chain('run.created')).filter((e) => e.actor === 'connector:hook').length).toBe(
      // Only the held runs of the two channels so far: no agent run before approval.
      2,
    );
    const decided = await gw.request('POST', `/v1/approvals/${channel?.id ?? ''}`, {
      json: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);
    const routed = (await gw.chain('message.routed')).filter(
      (e) =>
        e.data.message_id === first.message_id || e.data.outcome !== 'waiting_channel_approval',
    );
    const outcomes = routed.filter((e) => e.data.outcome !== 'waiting_channel_approval');
    expect(outcomes.map((e) => e.data.outcome).slice(-2)).toEqual([
      'created_run',
      'delivered_to_active_run',
    ]);
    const runId = outcomes.at(-2)?.run_id ?? '';
    const run = (await gw.request('GET', `/v1/runs/${runId}`)).body as { run: Run };
    // The goal carries the envelope's pointer, never the text or the sender.
    expect(run.run.goal).toMatch(/"content_ref":"q_[0-9a-f]{32}"/);
    expect(run.run.goal).not.toContain(CANARY);
    expect(run.run.goal).not.toContain('alice');

    // A run waiting for the next message is resumed by it.
    await gw.started.runs.transition(runId, 'running', TEST);
    await gw.started.runs.transition(runId, 'paused_external_event', {
      ...TEST,
      reason: 'waiting for the next message',
      waiting_for: CONNECTOR_MESSAGE_EVENT,
    });
    const c = signed(message('m-3', { channel_id: 'chan-2' }));
    expect((await post(c.body, c.headers)).body).toMatchObject({
      outcome: 'resumed_run',
      run_id: runId,
    });
  });

  it('refuses the waiting messages of a denied channel, and every later one', async () => {
    const a = signed(message('d-1', { channel_id: 'chan-deny' }));
    await post(a.body, a.headers);
    const list = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const ap = list.approvals.find((p) => p.scope === 'hook/chan-deny');
    await gw.request('POST', `/v1/approvals/${ap?.id ?? ''}`, { json: { decision: 'deny' } });
    const routed = (await gw.chain('message.routed')).at(-1);
    expect(routed).toMatchObject({
      rule_id: 'connector.channel_denied',
      data: { outcome: 'channel_denied' },
    });
    const b = signed(message('d-2', { channel_id: 'chan-deny' }));
    expect((await post(b.body, b.headers)).body).toMatchObject({
      outcome: 'channel_denied',
      run_id: null,
    });
    expect((await gw.chain('connection.decided')).at(-1)?.data).toMatchObject({
      channel_id: 'chan-deny',
      state: 'denied',
    });
  });

  it('activates a group message only on a mention from an allowlisted sender', async () => {
    const approveChannel = async (channelId: string) => {
      const list = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
      const ap = list.approvals.find(
        (p) => p.scope === `hook/${channelId}` && p.state === 'pending',
      );
      await gw.request('POST', `/v1/approvals/${ap?.id ?? ''}`, { json: { decision: 'approve' } });
    };
    const open = signed(message('g-0', { channel_id: 'grp', chat_type: 'group' }));
    await post(open.body, open.headers);
    await approveChannel('grp');
    const stranger = signed(
      message('g-1', {
        channel_id: 'grp',
        chat_type: 'group',
        sender_id: 'mallory',
        mentions: ['ccos'],
      }),
    );
    expect((await post(stranger.body, stranger.headers)).body).toMatchObject({
      outcome: 'not_activated',
      activation: { activated: false, reason: 'sender_not_allowlisted' },
    });
    const entry = (await gw.chain('message.routed')).at(-1);
    expect(entry?.rule_id).toBe('connector.activation.sender_not_allowlisted');
    const addressed = signed(
      message('g-2', { channel_id: 'grp', chat_type: 'group', mentions: ['ccos'] }),
    );
    expect((await post(addressed.body, addressed.headers)).body).toMatchObject({
      activation: { activated: true, reason: 'mention' },
    });
  });

  it('keeps the raw text out of the chain and the database plaintext; the chain verifies', async () => {
    expect(JSON.stringify(await gw.chain())).not.toContain(CANARY);
    const db = await readFile(gw.databaseFile);
    expect(db.includes(Buffer.from(CANARY))).toBe(false);
    const wal = await readFile(`${gw.databaseFile}-wal`).catch(() => Buffer.alloc(0));
    expect(wal.includes(Buffer.from(CANARY))).toBe(false);
    expect((await gw.request('GET', '/v1/chain/verify')).body).toMatchObject({ ok: true });
  });
});
