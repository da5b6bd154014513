import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { Run } from '../../../contracts/runs.ts';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { openSse, type SseStream } from '../gateway/helpers/sse-client.ts';

const TEXT = 'your parcel is at the concierge';

/**
 * The local chat connector's outbound transport (issue 23): a message is published on the
 * event stream as `message.outbound`, with its text, to an admin (the UI) and that connector's
 * own token — never to another connector's token, not even one owning the run that sent it.
 */
describe('local chat delivery over the event stream', () => {
  let gw: GatewayTestHost;
  let bot: { token: string };
  let chat: { token: string };
  let own: Run;
  let marker: Run;
  let outboxId: string;
  const streams: SseStream[] = [];

  const asBot = async (goal: string): Promise<Run> => {
    const res = await gw.request('POST', '/v1/runs', { token: bot.token, json: { goal } });
    expect(res.status, res.text).toBe(201);
    return res.body as Run;
  };

  /** Every event a credential's stream shows from the start until `until` holds for one. */
  const streamed = async (
    auth: { token: string },
    until: (e: StreamEvent) => boolean,
  ): Promise<StreamEvent[]> => {
    const sse = await openSse(`${gw.url}/v1/events`, { ...auth, lastEventId: 0 });
    streams.push(sse);
    expect(sse.status).toBe(200);
    const events = await sse.collectUntil((e) => until(JSON.parse(e.data) as StreamEvent));
    return events.map((e) => JSON.parse(e.data) as StreamEvent);
  };

  beforeAll(async () => {
    gw = await startGatewayHost();
    const put = await gw.request('PUT', '/v1/connectors/chat/adapter', {
      json: { adapter: 'local_chat', inbound_auth: { mode: 'person' }, template: { goal: 'Chat' } },
    });
    expect(put.status, put.text).toBe(200);
    bot = await gw.connector('bot', ['runs:create', 'runs:read']);
    chat = await gw.connector('chat', ['runs:read']);
    // The bot's own run sends to the local chat: the bot owns the run, not the chat's messages.
    own = await asBot('the bot’s run');
    const row = await gw.started.chain.transact((tx) =>
      enqueueIn(tx, {
        connector_id: 'chat',
        channel_id: 'local',
        content: { text: TEXT, reply_to: 'msg-1' },
        label: PUBLIC,
        run_id: own.id,
        step_id: null,
        session_id: own.session_id,
        max_attempts: 3,
        actor: 'test',
        now: new Date(),
      }),
    );
    outboxId = row.id;
    await gw.started.outbox.dispatcher.runDue();
    // After the publication: a stream that shows it has shown everything before it.
    marker = await asBot('the marker');
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await gw.stop();
  });

  it('is delivered once published: the row is delivered and the chain names the event stream', async () => {
    const row = await gw.started.store.db
      .selectFrom('outbox')
      .select(['state', 'attempts'])
      .where('id', '=', outboxId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'delivered', attempts: 1 });
    const published = await gw.chain('message.outbound');
    expect(published).toHaveLength(1);
    // The chain keeps a digest, never the text.
    expect(JSON.stringify(published[0])).not.toContain(TEXT);
    const attempts = await gw.chain('outbound.attempt');
    expect(attempts.map((e) => e.data.outcome)).toEqual(['delivered']);
  });

  it('an admin stream gets the message with its text', async () => {
    const events = await streamed(
      { token: gw.adminToken },
      (e) => e.event_type === 'run.created' && e.run_id === marker.id,
    );
    const outbound = events.filter((e) => e.event_type === 'message.outbound');
    expect(outbound).toHaveLength(1);
    expect(outbound[0]?.data).toMatchObject({
      outbox_id: outboxId,
      connector_id: 'chat',
      channel_id: 'local',
      text: TEXT,
      reply_to: 'msg-1',
    });
  });

  it('the chat connector’s own token gets it', async () => {
    const events = await streamed(
      { token: chat.token },
      (e) => e.event_type === 'message.outbound',
    );
    expect(events.at(-1)?.data).toMatchObject({ outbox_id: outboxId, text: TEXT });
  });

  it('another connector’s token does not, even though it owns the run that sent it', async () => {
    const events = await streamed(
      { token: bot.token },
      (e) => e.event_type === 'run.created' && e.run_id === marker.id,
    );
    // It sees its own run's entries (so the filter is not simply closed)…
    expect(events.some((e) => e.run_id === own.id)).toBe(true);
    // …but not the message, nor its text anywhere.
    expect(events.filter((e) => e.event_type === 'message.outbound')).toEqual([]);
    expect(JSON.stringify(events)).not.toContain(TEXT);
  });
});
