import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { MemoryItem } from '../../../contracts/memory.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { CreatedToken } from '../../../contracts/tokens.ts';
import { openSse, type SseStream } from '../gateway/helpers/sse-client.ts';
import {
  callEntry,
  doneEntry,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

/**
 * The Memory page follows memory on the event stream (issue 24), so `memory.*` entries are
 * streamed; this is who may see them: an admin all, a connector only the writes of the runs
 * it owns (already on those runs' chains), never another run's writes nor the person's
 * deletes and purges.
 */
describe('memory entries on the event stream', () => {
  let h: AutonomyHost;
  let connectorToken: string;
  let own: Run;
  let foreign: Run;
  let marker: Run;
  const streams: SseStream[] = [];

  /** Every streamed event from the start until the marker run's creation, inclusive. */
  const streamed = async (auth: { token: string }): Promise<StreamEvent[]> => {
    const sse = await openSse(`${h.started.gateway.url}/v1/events`, { ...auth, lastEventId: 0 });
    streams.push(sse);
    expect(sse.status).toBe(200);
    const events = await sse.collectUntil((e) => {
      const event = JSON.parse(e.data) as StreamEvent;
      return event.event_type === 'run.created' && event.run_id === marker.id;
    }, RUN_TIMEOUT_MS);
    return events.map((e) => JSON.parse(e.data) as StreamEvent);
  };

  beforeAll(async () => {
    h = await startAutonomyHost({
      transcript: {
        entries: [
          callEntry('call_1', 'ccos__memory_put', { key: 'wish', value: 'earl-grey-0451' }),
          doneEntry(),
        ],
      },
    });
    const token = await h.request('POST', '/v1/tokens', {
      kind: 'connector',
      label: 'bot',
      connector_id: 'bot',
      scopes: ['runs:create', 'runs:read'],
    });
    expect(token.status, token.text).toBe(201);
    connectorToken = (token.body as CreatedToken).token;
    const asConnector = async (body: unknown): Promise<Run> => {
      const res = await fetch(`${h.started.gateway.url}/v1/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${connectorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Run;
    };
    own = await asConnector({ goal: 'the bot’s run' });
    expect((await h.settle(own.id)).state).toBe('done');
    foreign = await h.createRun({ goal: 'the person’s run' });
    expect((await h.settle(foreign.id)).state).toBe('done');

    const ownItems = await h.request('GET', `/v1/memory?run_id=${own.id}`);
    const item = (ownItems.body as { items: MemoryItem[] }).items[0];
    expect(item?.key).toBe('wish');
    expect((await h.request('DELETE', `/v1/memory/${item?.id ?? ''}`)).status).toBe(200);
    const purge = await h.request('POST', '/v1/memory/purge', { run_id: foreign.id });
    expect(purge.body).toEqual({ purged: 1 });
    // Created after everything above: once a stream shows it, it has shown all before it.
    marker = await asConnector({ goal: 'the marker' });
  }, 3 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    for (const s of streams) s.close();
    await h.stop();
  });

  const memoryEvents = (events: StreamEvent[]) =>
    events
      .filter((e) => e.event_type.startsWith('memory.'))
      .map((e) => ({ type: e.event_type, run_id: e.run_id }));

  it('streams every memory write, delete and purge to an admin', async () => {
    const adminToken = (await h.request('POST', '/v1/tokens', { kind: 'admin', label: 'ui' }))
      .body as CreatedToken;
    const events = memoryEvents(await streamed({ token: adminToken.token }));
    expect(events).toEqual([
      { type: 'memory.write', run_id: own.id },
      { type: 'memory.write', run_id: foreign.id },
      { type: 'memory.deleted', run_id: null },
      { type: 'memory.purged', run_id: null },
    ]);
  });

  it('streams to a connector only the writes of its own run, never the person’s deletes or purges', async () => {
    const events = await streamed({ token: connectorToken });
    expect(memoryEvents(events)).toEqual([{ type: 'memory.write', run_id: own.id }]);
    const write = events.find((e) => e.event_type === 'memory.write');
    // Never the value: the key and namespace only, as on the run's own chain.
    expect(JSON.stringify(write)).not.toContain('earl-grey-0451');
  });
});
