import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { CausalChain } from '../../../main/chain/causal-chain.ts';
import { LIVE_BUFFER_MAX } from '../../../main/gateway/routes/event-stream-session.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { openSse, type SseStream } from './helpers/sse-client.ts';

const TEST = { actor: 'test' };

/** Appends `count` streamed entries of about `bytes` each, 500 per transaction. */
async function backlog(gw: GatewayTestHost, count: number, bytes: number): Promise<number> {
  const run = await gw.started.runs.create({ goal: 'noisy' }, TEST);
  const pad = 'p'.repeat(bytes);
  for (let done = 0; done < count; done += 500) {
    await gw.started.chain.transact(async (tx) => {
      for (let i = done; i < Math.min(count, done + 500); i++) {
        await tx.append({
          event_type: 'run.transition',
          actor: 'test',
          run_id: run.id,
          data: { i, pad },
        });
      }
    });
  }
  return (await gw.chain()).at(-1)?.seq ?? 0;
}

/** How many `chain.query` calls are running at most at once, from now on. */
function watchQueries(chain: CausalChain): { max: () => number } {
  const query = chain.query.bind(chain);
  let running = 0;
  let max = 0;
  chain.query = async (q) => {
    running += 1;
    max = Math.max(max, running);
    try {
      return await query(q);
    } finally {
      running -= 1;
    }
  };
  return { max: () => max };
}

/** A raw `GET /v1/events` whose reading the test pauses and resumes; ids seen so far. */
type RawStream = {
  ids: number[];
  /** Resolves once the first bytes arrived. */
  started: Promise<void>;
  pause: () => void;
  resume: () => void;
  /** Resolves once an event with this id arrived. */
  reach: (id: number) => Promise<void>;
  destroy: () => void;
};

function rawStream(gw: GatewayTestHost, lastEventId: number, pauseAtFirst: boolean): RawStream {
  const ids: number[] = [];
  let response: http.IncomingMessage | undefined;
  let buffer = '';
  let waiting: { id: number; resolve: () => void } | undefined;
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const req = http.get(
    `${gw.url}/v1/events`,
    { headers: { authorization: `Bearer ${gw.adminToken}`, 'last-event-id': String(lastEventId) } },
    (res) => {
      response = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (pauseAtFirst && ids.length === 0 && buffer === '') res.pause();
        onStart();
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('id: ')) ids.push(Number(line.slice(4)));
        }
        if (waiting !== undefined && ids.includes(waiting.id)) waiting.resolve();
      });
      res.on('error', () => undefined);
    },
  );
  req.on('error', () => undefined);
  return {
    ids,
    started,
    pause: () => response?.pause(),
    resume: () => response?.resume(),
    reach: (id) =>
      new Promise<void>((resolve) => {
        if (ids.includes(id)) resolve();
        else waiting = { id, resolve };
      }),
    destroy: () => req.destroy(),
  };
}

/**
 * Issue 17 #30: 200 clients replaying ~3,000 events each pushed run-create p99 to 11 s.
 * Replays now read the chain in small pages under a host-wide limit, take a turn of the
 * event loop between pages and wait for each client's own connection, so a slow or stopped
 * reader holds up only itself.
 */
describe('GET /v1/events replay under load', () => {
  let gw: GatewayTestHost | undefined;
  const raw: RawStream[] = [];
  const open: SseStream[] = [];
  afterEach(async () => {
    for (const r of raw.splice(0)) r.destroy();
    for (const s of open.splice(0)) s.close();
    await gw?.stop();
    gw = undefined;
  });

  it('stopped readers replaying a large backlog do not delay a live event to another client', async () => {
    gw = await startGatewayHost();
    const head = await backlog(gw, 5_000, 2_000);
    const queries = watchQueries(gw.started.chain);
    for (let i = 0; i < 20; i++) raw.push(rawStream(gw, 0, true));
    await Promise.all(raw.map((r) => r.started));

    const live = await openSse(`${gw.url}/v1/events`, { token: gw.adminToken, lastEventId: head });
    open.push(live);
    const run = await gw.started.runs.create({ goal: 'live' }, TEST);
    const event = await live.next(30_000);
    expect(event.event).toBe('run.created');
    expect(JSON.parse(event.data)).toMatchObject({ run_id: run.id });
    // The mechanism: replays never had more than the host-wide limit of reads in the store
    // at once, so a run's own writes waited behind at most that many.
    expect(queries.max()).toBeLessThanOrEqual(2);
    // And every stopped reader is still where it stopped: nothing was read ahead for it.
    for (const r of raw) expect(r.ids.length).toBeLessThan(5_000);
  });

  it('a client that falls behind the live tail misses nothing and repeats nothing', async () => {
    gw = await startGatewayHost();
    const head = (await gw.chain()).at(-1)?.seq ?? 0;
    const lagging = rawStream(gw, head, false);
    raw.push(lagging);
    await gw.started.runs.create({ goal: 'first' }, TEST);
    await lagging.started;
    lagging.pause();
    // Far more than the live buffer holds, and more than socket buffers take, while paused.
    const last = await backlog(gw, 3 * LIVE_BUFFER_MAX, 4_000);
    lagging.resume();
    await lagging.reach(last);
    const expected = (await gw.chain())
      .filter(
        (e) =>
          e.seq > head && (e.event_type === 'run.created' || e.event_type === 'run.transition'),
      )
      .map((e) => e.seq);
    expect(lagging.ids).toEqual(expected);
  });
});
