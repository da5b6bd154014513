import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { MemoryItem } from '../../../contracts/memory.ts';
import type { Run } from '../../../contracts/runs.ts';
import {
  callEntry,
  doneEntry,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { streamScope, type StreamScope } from './helpers/stream-scope.ts';

/**
 * The Memory page follows memory on the event stream (issue 24), so `memory.*` entries are
 * streamed; this is who may see them: an admin all, a connector only the writes of the runs
 * it owns (already on those runs' chains), never another run's writes nor the person's
 * deletes and purges.
 */
describe('memory entries on the event stream', () => {
  let h: AutonomyHost;
  let scope: StreamScope;
  let connectorToken: string;
  let own: Run;
  let foreign: Run;
  let marker: Run;

  beforeAll(async () => {
    h = await startAutonomyHost({
      transcript: {
        entries: [
          callEntry('call_1', 'ccos__memory_put', { key: 'wish', value: 'earl-grey-0451' }),
          doneEntry(),
        ],
      },
    });
    scope = streamScope(h);
    connectorToken = await scope.connectorToken('bot');
    const asConnector = (body: Record<string, unknown>) => scope.createRunAs(connectorToken, body);
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
    scope.close();
    await h.stop();
  });

  const memoryEvents = (events: StreamEvent[]) =>
    events
      .filter((e) => e.event_type.startsWith('memory.'))
      .map((e) => ({ type: e.event_type, run_id: e.run_id }));

  it('streams every memory write, delete and purge to an admin', async () => {
    const events = memoryEvents(await scope.eventsUntil(await scope.adminToken(), marker));
    expect(events).toEqual([
      { type: 'memory.write', run_id: own.id },
      { type: 'memory.write', run_id: foreign.id },
      { type: 'memory.deleted', run_id: null },
      { type: 'memory.purged', run_id: null },
    ]);
  });

  it('streams to a connector only the writes of its own run, never the person’s deletes or purges', async () => {
    const events = await scope.eventsUntil(connectorToken, marker);
    expect(memoryEvents(events)).toEqual([{ type: 'memory.write', run_id: own.id }]);
    const write = events.find((e) => e.event_type === 'memory.write');
    // Never the value: the key and namespace only, as on the run's own chain.
    expect(JSON.stringify(write)).not.toContain('earl-grey-0451');
  });
});
