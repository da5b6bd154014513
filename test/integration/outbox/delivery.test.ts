import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxDispatcher } from '../../../main/outbox/dispatcher.ts';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { manualWakeTimer, type ManualWakeTimer } from '../../support/manual-wake-timer.ts';
import {
  startOutboxReceiver,
  type OutboxReceiver,
  type ReceiverAnswer,
} from '../../support/outbox-receiver.ts';
import {
  manualClock,
  openTestServices,
  type ManualClock,
  type TestServices,
} from '../../support/test-store.ts';
import { testDispatcher, testMessage } from './test-dispatcher.ts';

describe('outbox delivery to real HTTP receivers (issue 23)', () => {
  let services: TestServices;
  let clock: ManualClock;
  let timer: ManualWakeTimer;
  let receiver: OutboxReceiver | undefined;
  let dispatcher: OutboxDispatcher | undefined;

  beforeEach(async () => {
    clock = manualClock('2026-12-03T10:00:00.000Z');
    timer = manualWakeTimer();
    services = await openTestServices({ clock });
  });
  afterEach(async () => {
    receiver?.releaseHanging();
    await dispatcher?.dispose();
    await receiver?.close();
    await services.close();
    receiver = undefined;
    dispatcher = undefined;
  });

  async function setUp(
    answer: (index: number) => ReceiverAnswer,
    options: { timeoutMs?: number } = {},
  ): Promise<{ receiver: OutboxReceiver; dispatcher: OutboxDispatcher }> {
    receiver = await startOutboxReceiver((_r, i) => answer(i));
    dispatcher = testDispatcher(services, { url: receiver.url, clock, timer, ...options });
    return { receiver, dispatcher };
  }

  function enqueue(
    maxAttempts: number,
    key?: string,
  ): Promise<{ id: string; idempotency_key: string }> {
    return services.chain.transact((tx) =>
      enqueueIn(
        tx,
        testMessage('the build is green', clock.now(), {
          idempotency_key: key,
          max_attempts: maxAttempts,
        }),
      ),
    );
  }

  async function row(id: string) {
    return services.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  /** Moves the clock to the armed wake-up and lets the dispatcher run what is due then. */
  async function wake(d: OutboxDispatcher): Promise<void> {
    const delay = timer.armed;
    expect(delay).toBeDefined();
    clock.advance(delay ?? 0);
    expect(timer.fire()).toBe(true);
    await d.runDue();
  }

  it('retries a receiver that fails twice, on the documented backoff schedule, then delivers once', async () => {
    const { receiver: r, dispatcher: d } = await setUp((i) => ({ status: i < 2 ? 503 : 200 }));
    const message = await enqueue(5);
    await d.runDue();
    expect((await row(message.id)).state).toBe('queued');
    // Full jitter: random() × min(max, base × 2^(attempts − 1)), random() = 0.5 here.
    expect(timer.armed).toBe(500);
    await wake(d);
    expect(timer.armed).toBe(1_000);
    await wake(d);
    const settled = await row(message.id);
    expect(settled.state).toBe('delivered');
    expect(settled.attempts).toBe(3);
    expect(r.requests.map((q) => q.key)).toEqual(Array(3).fill(message.idempotency_key));
    expect([...r.accepted.keys()]).toEqual([message.idempotency_key]);
    expect(timer.armed).toBeUndefined();
    const history = await services.store.db
      .selectFrom('outbox_attempts')
      .select(['attempt', 'status', 'outcome', 'category'])
      .where('outbox_id', '=', message.id)
      .orderBy('attempt')
      .execute();
    expect(history).toEqual([
      { attempt: 1, status: 503, outcome: 'retry', category: 'server' },
      { attempt: 2, status: 503, outcome: 'retry', category: 'server' },
      { attempt: 3, status: 200, outcome: 'delivered', category: null },
    ]);
    const { entries } = await services.chain.query({ limit: 1000 });
    const outbound = entries.filter((e) => e.event_type === 'outbound.attempt');
    const egress = entries.filter((e) => e.event_type === 'egress.attempt');
    expect(outbound.map((e) => [e.data['attempt'], e.data['status'], e.data['outcome']])).toEqual([
      [1, 503, 'retry'],
      [2, 503, 'retry'],
      [3, 200, 'delivered'],
    ]);
    expect(outbound.every((e) => typeof e.data['latency_ms'] === 'number')).toBe(true);
    expect(outbound.every((e) => e.data['policy_decision'] === 'allowed')).toBe(true);
    expect(egress).toHaveLength(3);
    expect((await services.chain.verify()).ok).toBe(true);
  });

  it('dead-letters after max_attempts when the receiver answers 500 forever', async () => {
    const { receiver: r, dispatcher: d } = await setUp(() => ({ status: 500 }));
    const message = await enqueue(3);
    await d.runDue();
    await wake(d);
    await wake(d);
    const dead = await row(message.id);
    expect(dead.state).toBe('dead');
    expect(dead.attempts).toBe(3);
    expect(dead.last_error_category).toBe('server');
    expect(r.requests).toHaveLength(3);
    expect(timer.armed).toBeUndefined();
  });

  it('dead-letters at once on a 400, without a retry', async () => {
    const { receiver: r, dispatcher: d } = await setUp(() => ({ status: 400 }));
    const message = await enqueue(8);
    await d.runDue();
    const dead = await row(message.id);
    expect(dead.state).toBe('dead');
    expect(dead.attempts).toBe(1);
    expect(dead.last_error_category).toBe('invalid');
    expect(r.requests).toHaveLength(1);
    expect(timer.armed).toBeUndefined();
  });

  it('waits what a 429 retry-after asks, not the backoff', async () => {
    const { receiver: r, dispatcher: d } = await setUp((i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '7' } } : { status: 204 },
    );
    const message = await enqueue(5);
    await d.runDue();
    const waiting = await row(message.id);
    expect(waiting.last_error_category).toBe('rate_limit');
    expect(Date.parse(waiting.next_attempt_at) - clock.now().getTime()).toBe(7_000);
    expect(timer.armed).toBe(7_000);
    await wake(d);
    expect((await row(message.id)).state).toBe('delivered');
    expect(r.accepted.size).toBe(1);
  });

  it('counts a receiver that never answers as a timeout and retries it', async () => {
    const { receiver: r, dispatcher: d } = await setUp(
      (i) => (i === 0 ? 'hang' : { status: 200 }),
      {
        timeoutMs: 200,
      },
    );
    const message = await enqueue(5);
    await d.runDue();
    const timedOut = await row(message.id);
    expect(timedOut.state).toBe('queued');
    expect(timedOut.last_error_category).toBe('timeout');
    await wake(d);
    expect((await row(message.id)).state).toBe('delivered');
    expect(r.requests).toHaveLength(2);
  });

  it('leaves exactly one accepted delivery per key when an accepted request’s answer is lost', async () => {
    // The receiver takes the first request but the host sees a 503 (the answer was lost):
    // the retry carries the same key, and the receiver drops it as a duplicate.
    const { receiver: r, dispatcher: d } = await setUp((i) =>
      i === 0 ? { status: 503, accept: true } : { status: 200 },
    );
    const message = await enqueue(5, 'key-one-aaaa');
    await d.runDue();
    await wake(d);
    expect((await row(message.id)).state).toBe('delivered');
    expect(r.requests.map((q) => q.key)).toEqual(['key-one-aaaa', 'key-one-aaaa']);
    expect([...r.accepted.entries()]).toEqual([['key-one-aaaa', 0]]);
  });

  it('queues a replayed step’s message once: the same derived key returns the same row', async () => {
    const a = await enqueue(5);
    const b = await enqueue(5);
    expect(b.id).toBe(a.id);
    const rows = await services.store.db.selectFrom('outbox').select('id').execute();
    expect(rows).toHaveLength(1);
  });
});
