import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChatConversation } from '../../../contracts/chat.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import {
  errorOf,
  startGatewayHost,
  type ApiResponse,
  type GatewayTestHost,
} from '../gateway/helpers/gateway-host.ts';

const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

/**
 * Issue 24, the Chat page's read side: `GET /v1/chat/conversations/{channel}` gives back a
 * local chat channel's history — the person's own text out of the quarantine (audited) and
 * the replies queued to it — to the person only, one channel at a time, page by page.
 */
describe('the local chat conversation read API', () => {
  let gw: GatewayTestHost;
  let runId: string;

  const send = async (channel: string, id: string, text: string): Promise<InboundResult> => {
    const res = await gw.request('POST', '/v1/chat/messages', {
      json: { id, channel_id: channel, text },
    });
    expect(res.status, res.text).toBe(202);
    return res.body as InboundResult;
  };
  const read = (channel: string, query = '', token?: string | null): Promise<ApiResponse> =>
    gw.request('GET', `/v1/chat/conversations/${channel}${query}`, {
      ...(token === undefined ? {} : { token }),
    });
  const conversation = async (channel: string, query = ''): Promise<ChatConversation> => {
    const res = await read(channel, query);
    expect(res.status, res.text).toBe(200);
    return res.body as ChatConversation;
  };
  const reply = (channel: string, text: string, key: string) =>
    gw.started.outbox.queue.enqueue({
      connector_id: 'local-chat',
      channel_id: channel,
      content: text,
      content_label: 'public',
      reply_to: null,
      idempotency_key: key,
    });

  beforeAll(async () => {
    gw = await startGatewayHost();
    const put = await gw.request('PUT', '/v1/connectors/local-chat/adapter', {
      json: { adapter: 'local_chat', inbound_auth: { mode: 'person' }, template: { goal: 'Help' } },
    });
    expect(put.status, put.text).toBe(200);
    expect((await send('alpha', 'a-1', HOSTILE)).outcome).toBe('waiting_channel_approval');
    const list = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const ap = list.approvals.find((a) => a.kind === 'channel' && a.scope === 'local-chat/alpha');
    const decided = await gw.request('POST', `/v1/approvals/${ap?.id ?? ''}`, {
      json: { decision: 'approve' },
    });
    expect(decided.status, decided.text).toBe(200);
    const routed = await gw.started.store.db
      .selectFrom('connector_messages')
      .select('run_id')
      .where('external_id', '=', 'a-1')
      .executeTakeFirstOrThrow();
    runId = routed.run_id ?? '';
    expect(runId).not.toBe('');
    await reply('alpha', 'Hello from the agent', 'k-alpha-1');
    await send('beta', 'b-1', 'a secret of channel beta');
    await reply('beta', 'reply meant for beta', 'k-beta-1');
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('refuses a connector token, the chat run’s own agent token and no token', async () => {
    const { token: connectorToken } = await gw.connector('local-chat', ['runs:read']);
    const asConnector = await read('alpha', '', connectorToken);
    expect(asConnector.status).toBe(403);
    const agent = await gw.started.tokens.create(
      { kind: 'agent_session', label: 'the chat run', run_id: runId },
      { actor: 'test' },
    );
    const asAgent = await read('alpha', '', agent.token);
    expect(asAgent.status).toBe(403);
    expect((await read('alpha', '', null)).status).toBe(401);
    for (const res of [asConnector, asAgent]) expect(res.text).not.toContain('alert');
  });

  it('gives back the person’s own text as sent and the reply, in order, with states', async () => {
    const page = await conversation('alpha');
    expect(page.connection).toMatchObject({ state: 'approved' });
    expect(page.next_cursor).toBeNull();
    expect(page.messages).toMatchObject([
      {
        direction: 'inbound',
        client_id: 'a-1',
        text: HOSTILE,
        text_gone: null,
        state: 'routed',
        run_id: runId,
      },
      { direction: 'outbound', text: 'Hello from the agent', reply_to: null },
    ]);
  });

  it('never mixes another channel in, whichever side the rows are on', async () => {
    const alpha = JSON.stringify(await conversation('alpha'));
    expect(alpha).not.toContain('beta');
    const beta = await conversation('beta');
    expect(beta.connection).toMatchObject({ state: 'pending_approval' });
    expect(beta.messages.map((m) => m.text)).toEqual([
      'a secret of channel beta',
      'reply meant for beta',
    ]);
    expect(JSON.stringify(beta)).not.toContain('script');
    const fresh = await conversation('never-used');
    expect(fresh).toMatchObject({ connection: null, messages: [], next_cursor: null });
  });

  it('audits each read of the person’s text as a quarantine.access naming the pointers', async () => {
    const before = (await gw.chain('quarantine.access')).length;
    await conversation('alpha');
    const accesses = await gw.chain('quarantine.access');
    expect(accesses).toHaveLength(before + 1);
    const entry = accesses.at(-1);
    const row = await gw.started.store.db
      .selectFrom('connector_messages')
      .select('envelope')
      .where('external_id', '=', 'a-1')
      .executeTakeFirstOrThrow();
    const ref = (JSON.parse(row.envelope) as { content_ref: string }).content_ref;
    expect(entry).toMatchObject({
      actor: 'admin',
      capability_id: 'ui.chat_history',
      data: { content_refs: [ref] },
    });
    expect(JSON.stringify(entry)).not.toContain('alert');
  });

  it('pages exactly once through every message, oldest first', async () => {
    for (let i = 2; i <= 5; i += 1) await send('alpha', `a-${String(i)}`, `message ${String(i)}`);
    await reply('alpha', 'last word', 'k-alpha-2');
    const all: string[] = [];
    let query = '?limit=2';
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await conversation('alpha', query);
      all.push(...page.messages.map((m) => m.id));
      expect(page.messages.length).toBeLessThanOrEqual(2);
      // The cursor names a position, never a message's text.
      expect(Buffer.from(page.next_cursor ?? '', 'base64url').toString()).not.toMatch(
        /message|word/,
      );
      if (page.next_cursor === null) break;
      query = `?limit=2&after=${page.next_cursor}`;
    }
    const whole = await conversation('alpha', '?limit=200');
    expect(whole.messages).toHaveLength(7);
    expect(all).toEqual(whole.messages.map((m) => m.id));
    expect(whole.messages.at(-1)?.text).toBe('last word');
    const times = whole.messages.map((m) => m.at);
    expect(times).toEqual([...times].sort());
  });

  it('says a purged message is gone instead of reading it, and keeps the reply', async () => {
    const conn = await gw.started.store.db
      .selectFrom('connector_connections')
      .select('session_id')
      .where('channel_id', '=', 'beta')
      .executeTakeFirstOrThrow();
    await gw.started.quarantine.purge(
      { by: 'session', session_id: conn.session_id },
      { actor: 'test' },
    );
    const before = (await gw.chain('quarantine.access')).length;
    const beta = await conversation('beta');
    expect(beta.messages).toMatchObject([
      { direction: 'inbound', client_id: 'b-1', text: null, text_gone: 'purged' },
      { direction: 'outbound', text: 'reply meant for beta' },
    ]);
    // Nothing was read, so nothing is recorded as read.
    expect(await gw.chain('quarantine.access')).toHaveLength(before);
  });

  it('refuses a cursor it did not make, and a connector that is not a local chat', async () => {
    const forged = Buffer.from(JSON.stringify({ at: 'yesterday', id: 'x' })).toString('base64url');
    const notJson = Buffer.from('not json').toString('base64url');
    for (const cursor of ['%24%24%24', notJson, forged, 'e30']) {
      const res = await read('alpha', `?after=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(errorOf(res).code).toBe('INVALID_INPUT');
    }
    const hook = await gw.request('PUT', '/v1/connectors/hook/adapter', {
      json: { adapter: 'webhook', inbound_auth: { mode: 'bearer' }, template: { goal: 'x' } },
    });
    expect(hook.status, hook.text).toBe(200);
    const asHook = await read('alpha', '?connector=hook');
    expect(asHook.status).toBe(400);
    expect(errorOf(asHook).code).toBe('CONNECTOR_INVALID');
    expect((await read('alpha', '?connector=nobody')).status).toBe(404);
  });
});
