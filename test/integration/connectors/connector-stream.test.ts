import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { Approval } from '../../../contracts/approvals.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import type { Run } from '../../../contracts/runs.ts';
import { postSignedInbound } from '../../support/signed-inbound.ts';
import {
  doneEntry,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';
import { streamScope, type StreamScope } from '../autonomy/helpers/stream-scope.ts';

const CHANNEL = 'chan-stream-7d1e';
const CONNECTOR_EVENTS = new Set([
  'connector.adapter_set',
  'connector.adapter_removed',
  'connection.decided',
]);

/**
 * The Connectors page follows connectors on the event stream (issue 24): an adapter set or
 * removed and a channel connection decided are streamed to an admin; a connector's own token,
 * which may follow its runs, never sees them (they name no run; their channel ids are
 * `pii.chat.metadata`, and another connector's setup is none of its business).
 */
describe('connector entries on the event stream', () => {
  let h: AutonomyHost;
  let scope: StreamScope;
  let connectorToken: string;
  let marker: Run;

  beforeAll(async () => {
    h = await startAutonomyHost({ transcript: { entries: [doneEntry()] } });
    scope = streamScope(h);
    const put = await h.request('PUT', '/v1/connectors/hook/adapter', {
      adapter: 'webhook',
      inbound_auth: { mode: 'hmac' },
      template: { goal: 'Answer the message' },
    });
    expect(put.status, put.text).toBe(200);
    const secret = (put.body as { secret: string }).secret;
    const inbound = await postSignedInbound(
      `${h.started.gateway.url}/v1/connectors/hook/inbound`,
      secret,
      { id: 'm-1', channel_id: CHANNEL, chat_type: 'direct', sender_id: 'alice', text: 'hello' },
    );
    expect(((await inbound.json()) as InboundResult).outcome).toBe('waiting_channel_approval');
    const pending = (await h.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const channel = pending.approvals.find((a) => a.kind === 'channel');
    const decided = await h.request('POST', `/v1/approvals/${channel?.id ?? ''}`, {
      decision: 'approve',
    });
    expect(decided.status, decided.text).toBe(200);
    expect((await h.request('DELETE', '/v1/connectors/hook/adapter')).status).toBe(200);

    connectorToken = await scope.connectorToken('hook');
    // Created after everything above: once a stream shows it, it has shown all before it.
    marker = await scope.createRunAs(connectorToken, { goal: 'the marker' });
  }, 3 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    scope.close();
    await h.stop();
  });

  const connectorEvents = (events: StreamEvent[]) =>
    events.filter((e) => CONNECTOR_EVENTS.has(e.event_type));

  it('streams an adapter set, a connection decided and an adapter removed to an admin', async () => {
    // Without them on the stream the page would show a decided channel as still waiting.
    const events = connectorEvents(await scope.eventsUntil(await scope.adminToken(), marker));
    expect(events.map((e) => e.event_type)).toEqual([
      'connector.adapter_set',
      'connection.decided',
      'connector.adapter_removed',
    ]);
    expect(events[1]?.data).toMatchObject({ connector_id: 'hook', state: 'approved' });
  });

  it('never streams them to a connector’s own token', async () => {
    const events = await scope.eventsUntil(connectorToken, marker);
    expect(events.some((e) => e.run_id === marker.id)).toBe(true);
    expect(connectorEvents(events)).toEqual([]);
  });
});
