import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STREAMED_EVENT_TYPES, type StreamEvent } from '../../../contracts/api.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { openSse, type SseEvent, type SseStream } from './helpers/sse-client.ts';

const TEST = { actor: 'test' };
const STREAMED = new Set<string>(STREAMED_EVENT_TYPES);

/**
 * Issue 3: `GET /v1/events` delivers run transitions and approvals in chain order, ids =
 * chain seq; a reconnect with Last-Event-ID gets exactly what was missed, then the live tail.
 */
describe('GET /v1/events', () => {
  let gw: GatewayTestHost;
  const open: SseStream[] = [];

  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await gw.stop();
  });

  const connect = async (options: { token?: string; lastEventId?: string | number } = {}) => {
    const stream = await openSse(`${gw.url}/v1/events`, {
      token: options.token ?? gw.adminToken,
      ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    });
    open.push(stream);
    return stream;
  };
  const parsed = (e: SseEvent): StreamEvent => JSON.parse(e.data) as StreamEvent;
  /** What the stream should hold after `afterSeq`: the streamed chain entries. */
  const streamedAfter = async (afterSeq: number): Promise<ChainEntry[]> =>
    (await gw.chain()).filter((e) => e.seq > afterSeq && STREAMED.has(e.event_type));
  const createRun = async (goal: string, token?: string) =>
    (
      await gw.request('POST', '/v1/runs', {
        json: { goal },
        ...(token === undefined ? {} : { token }),
      })
    ).body as Run;

  it('streams run.created, run.transition and approval events in chain order, id = seq', async () => {
    const stream = await connect();
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const run = await createRun('streamed run');
    await gw.started.runs.transition(run.id, 'running', TEST);
    const { approval } = await gw.started.approvals.requestAndPause(
      {
        run_id: run.id,
        step_id: 'step_1',
        kind: 'operation',
        rule_id: 'test.asks',
        scope: 'files.write',
        justification: 'save the result',
        permission_diff: [{ permission: 'files.write', to: ['out/'] }],
        request: {},
      },
      TEST,
    );
    const decided = await gw.request('POST', `/v1/approvals/${approval.id}`, {
      json: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);

    const events = await stream.collectUntil(
      (e) => e.event === 'run.transition' && parsed(e).data.trigger === 'approval_decision',
    );
    const expected = await streamedAfter(0);
    expect(events.map((e) => e.id)).toEqual(expected.map((e) => String(e.seq)));
    expect(events.map((e) => e.event)).toEqual([
      'run.created',
      'run.transition',
      'approval.request',
      'run.transition',
      'approval.decision',
      'run.transition',
    ]);
    for (const [i, e] of events.entries()) {
      const body = parsed(e);
      const entry = expected[i] as ChainEntry;
      expect(body).toEqual({
        seq: entry.seq,
        event_type: entry.event_type,
        timestamp: entry.timestamp,
        session_id: entry.session_id,
        run_id: entry.run_id,
        data: entry.data,
      });
    }
    // Not streamed: session and token entries.
    expect(events.some((e) => e.event === 'session.created')).toBe(false);
    expect(await stream.drain(100)).toEqual([]);
  });

  it('a reconnect with Last-Event-ID gets exactly the missed events, then live ones', async () => {
    const first = await connect();
    const run = await createRun('reconnecting');
    const seen = await first.collectUntil(
      (e) => e.event === 'run.created' && parsed(e).run_id === run.id,
    );
    const lastId = Number(seen.at(-1)?.id);
    first.close();

    // While nobody listens: three transitions and another run.
    await gw.started.runs.transition(run.id, 'running', TEST);
    await gw.started.runs.transition(run.id, 'paused_schedule', { ...TEST, reason: 'tonight' });
    await gw.request('POST', `/v1/runs/${run.id}/resume`);
    const other = await createRun('made while disconnected');
    const missed = await streamedAfter(lastId);
    expect(missed.length).toBe(4);

    const again = await connect({ lastEventId: lastId });
    const replayed = await again.collectUntil((e) => e.id === String(missed.at(-1)?.seq));
    expect(replayed.map((e) => Number(e.id))).toEqual(missed.map((e) => e.seq));

    // Then the live tail, on the same connection, with nothing repeated or skipped.
    await gw.request('POST', `/v1/runs/${run.id}/cancel`);
    await gw.request('POST', `/v1/runs/${other.id}/cancel`);
    const live = await again.collectUntil(
      (e) => e.event === 'run.transition' && parsed(e).run_id === other.id,
    );
    const all = [...replayed, ...live].map((e) => Number(e.id));
    expect(all).toEqual((await streamedAfter(lastId)).map((e) => e.seq));
    expect(new Set(all).size).toBe(all.length);
    expect(await again.drain(100)).toEqual([]);
  });

  it('Last-Event-ID at the head sends nothing old, only what happens next', async () => {
    const head = (await gw.chain()).at(-1)?.seq ?? 0;
    const stream = await connect({ lastEventId: head });
    expect(await stream.drain(150)).toEqual([]);
    const run = await createRun('after the head');
    const [event] = await stream.collectUntil(() => true);
    expect(event).toMatchObject({ event: 'run.created' });
    expect(parsed(event as SseEvent).run_id).toBe(run.id);
  });

  it('many quick writes while connected arrive once each, in order', async () => {
    const head = (await gw.chain()).at(-1)?.seq ?? 0;
    const stream = await connect({ lastEventId: head });
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => createRun(`burst ${i}`)));
    await Promise.all(runs.map((r) => gw.request('POST', `/v1/runs/${r.id}/cancel`)));
    const expected = await streamedAfter(head);
    expect(expected.length).toBe(20);
    const got = await stream.collectUntil((e) => e.id === String(expected.at(-1)?.seq));
    expect(got.map((e) => Number(e.id))).toEqual(expected.map((e) => e.seq));
  });

  it("a connector token sees only its own runs' events", async () => {
    const mine = await gw.connector('watcher', ['runs:create', 'runs:read', 'runs:cancel']);
    const head = (await gw.chain()).at(-1)?.seq ?? 0;
    const stream = await connect({ token: mine.token, lastEventId: head });

    const adminRun = await createRun('not yours');
    const own = await createRun('yours', mine.token);
    await gw.request('POST', `/v1/runs/${adminRun.id}/cancel`);
    await gw.request('POST', `/v1/runs/${own.id}/cancel`, { token: mine.token });

    const got = await stream.collectUntil(
      (e) => e.event === 'run.transition' && parsed(e).run_id === own.id,
    );
    expect(got.map((e) => parsed(e).run_id)).toEqual([own.id, own.id]);
    expect(got.map((e) => e.event)).toEqual(['run.created', 'run.transition']);
    expect(await stream.drain(100)).toEqual([]);

    // And from the backlog too: a full replay holds only its own run.
    const replay = await connect({ token: mine.token });
    const all = await replay.collectUntil((e) => e.event === 'run.transition');
    expect(new Set(all.map((e) => parsed(e).run_id))).toEqual(new Set([own.id]));
  });

  it('a token without runs:read is refused (403) and audited', async () => {
    const blind = await gw.connector('blind', ['runs:create']);
    const denied = (await gw.chain('auth.denied')).length;
    const stream = await connect({ token: blind.token });
    expect(stream.status).toBe(403);
    expect((await gw.chain('auth.denied')).length).toBe(denied + 1);
  });
});
