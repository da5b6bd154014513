import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { OutboxDispatcher } from '../../../main/outbox/dispatcher.ts';
import { OutboxAdmin } from '../../../main/outbox/outbox-admin.ts';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { appErrorCodeOf } from '../../support/app-error-code.ts';
import { manualWakeTimer } from '../../support/manual-wake-timer.ts';
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

const ADMIN = { actor: 'admin', correlation_id: 'cor-1' };
const DAY = 86_400_000;

describe('outbox admin: list, show, retry, discard, prune (issue 23)', () => {
  let services: TestServices;
  let clock: ManualClock;
  let receiver: OutboxReceiver;
  let dispatcher: OutboxDispatcher;
  let admin: OutboxAdmin;
  let answers: (index: number) => ReceiverAnswer;

  beforeEach(async () => {
    clock = manualClock('2026-12-03T10:00:00.000Z');
    services = await openTestServices({ clock });
    answers = () => ({ status: 200 });
    receiver = await startOutboxReceiver((_r, i) => answers(i));
    const { redactor } = services.host.started;
    dispatcher = testDispatcher(services, { url: receiver.url, clock, timer: manualWakeTimer() });
    admin = new OutboxAdmin({
      db: services.store.db,
      chain: services.chain,
      clock,
      redactor,
      retryAttempts: 3,
      poke: () => {
        dispatcher.poke();
      },
    });
  });
  afterEach(async () => {
    receiver.releaseHanging();
    await dispatcher.dispose();
    await receiver.close();
    await services.close();
  });

  function enqueue(
    options: { text?: string; connector?: string; run?: string | null; maxAttempts?: number } = {},
  ) {
    clock.advance(1);
    return services.chain.transact((tx) =>
      enqueueIn(
        tx,
        testMessage(options.text ?? `message at ${clock.now().toISOString()}`, clock.now(), {
          connector_id: options.connector ?? 'hook',
          run_id: options.run ?? null,
          max_attempts: options.maxAttempts ?? 1,
        }),
      ),
    );
  }

  async function adminEntries(): Promise<ChainEntry[]> {
    const { entries } = await services.chain.query({ limit: 1000 });
    return entries.filter((e) => e.event_type === 'outbox.admin');
  }

  async function rowCount(id: string): Promise<{ rows: number; attempts: number }> {
    const db = services.store.db;
    const rows = await db.selectFrom('outbox').select('id').where('id', '=', id).execute();
    const attempts = await db
      .selectFrom('outbox_attempts')
      .select('attempt')
      .where('outbox_id', '=', id)
      .execute();
    return { rows: rows.length, attempts: attempts.length };
  }

  it('retries a dead letter: the dispatcher is poked, a real receiver takes it under the same key, attempts keep their numbers', async () => {
    answers = (i) => ({ status: i === 0 ? 400 : 200 });
    const message = await enqueue({ maxAttempts: 1 });
    await dispatcher.runDue();
    expect((await admin.show(message.id)).state).toBe('dead');

    const arrival = receiver.nextRequest();
    const result = await admin.retry(message.id, {}, ADMIN);
    expect(result.message).toMatchObject({ state: 'queued', attempts: 1, max_attempts: 4 });
    // Only the admin's poke makes the dispatcher look: nothing else wakes it in this test.
    await arrival;
    await dispatcher.runDue();

    const detail = await admin.show(message.id);
    expect(detail.state).toBe('delivered');
    expect(detail.history.map((h) => [h.attempt, h.status, h.outcome])).toEqual([
      [1, 400, 'dead'],
      [2, 200, 'delivered'],
    ]);
    expect(receiver.requests.map((r) => r.key)).toEqual([
      message.idempotency_key,
      message.idempotency_key,
    ]);
    expect([...receiver.accepted.keys()]).toEqual([message.idempotency_key]);
    const [entry, ...more] = await adminEntries();
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor: 'admin',
      correlation_id: 'cor-1',
      rule_id: 'outbox.retry',
      data: { action: 'retry', outcome: 'done', ids: [message.id], count: 1, max_attempts: 4 },
    });
  });

  it('takes the budget a person names for the retry', async () => {
    answers = () => ({ status: 500 });
    const message = await enqueue({ maxAttempts: 1 });
    await dispatcher.runDue();
    const result = await admin.retry(message.id, { attempts: 1 }, ADMIN);
    expect(result.message?.max_attempts).toBe(2);
  });

  it('refuses to retry a delivered or a queued message with stable codes, each refusal on the chain', async () => {
    const delivered = await enqueue();
    await dispatcher.runDue();
    const queued = await enqueue();
    expect(await appErrorCodeOf(admin.retry(delivered.id, {}, ADMIN))).toBe(
      'OUTBOX_ALREADY_DELIVERED',
    );
    expect(await appErrorCodeOf(admin.retry(queued.id, {}, ADMIN))).toBe('OUTBOX_NOT_DEAD');
    expect(await appErrorCodeOf(admin.retry('obx_' + '0'.repeat(32), {}, ADMIN))).toBe('NOT_FOUND');
    expect((await admin.show(queued.id)).state).toBe('queued');
    expect(
      (await adminEntries()).map((e) => [e.rule_id, e.data['outcome'], e.data['ids']]),
    ).toEqual([
      ['outbox.retry_delivered', 'refused', [delivered.id]],
      ['outbox.retry_not_dead', 'refused', [queued.id]],
    ]);
  });

  it('refuses to discard a message in flight (its lease is held) and discards dead and queued ones', async () => {
    answers = (i) => (i === 0 ? 'hang' : { status: 400 });
    const leased = await enqueue({ maxAttempts: 1 });
    const arrival = receiver.nextRequest();
    dispatcher.poke();
    await arrival;
    expect(await appErrorCodeOf(admin.discard(leased.id, ADMIN))).toBe('OUTBOX_LEASED');
    expect(await rowCount(leased.id)).toEqual({ rows: 1, attempts: 1 });
    receiver.releaseHanging();
    await dispatcher.runDue();

    const dead = await enqueue({ maxAttempts: 1 });
    await dispatcher.runDue();
    expect((await admin.show(dead.id)).state).toBe('dead');
    await admin.discard(dead.id, ADMIN);
    expect(await rowCount(dead.id)).toEqual({ rows: 0, attempts: 0 });

    // A queued message discarded before the dispatcher looks is never sent.
    const queued = await enqueue();
    const sentBefore = receiver.requests.length;
    await admin.discard(queued.id, ADMIN);
    await dispatcher.runDue();
    expect(receiver.requests.length).toBe(sentBefore);
    expect(await appErrorCodeOf(admin.show(queued.id))).toBe('NOT_FOUND');

    expect(
      (await adminEntries()).map((e) => [e.rule_id, e.data['outcome'], e.data['count']]),
    ).toEqual([
      ['outbox.discard_leased', 'refused', 0],
      ['outbox.discard', 'done', 1],
      ['outbox.discard', 'done', 1],
    ]);
  });

  it('prunes only delivered and dead rows settled before the cut-off, in one entry with the count', async () => {
    answers = (i) => ({ status: i === 0 ? 200 : 400 });
    const delivered = await enqueue();
    await dispatcher.runDue();
    const dead = await enqueue({ maxAttempts: 1 });
    await dispatcher.runDue();
    const oldQueued = await enqueue();
    clock.advance(8 * DAY);
    answers = () => ({ status: 200 });
    const freshDelivered = await enqueue({ connector: 'other' });
    await services.chain.transact(async (tx) => {
      await tx.db
        .updateTable('outbox')
        .set({ next_attempt_at: '2099-01-01T00:00:00.000Z' })
        .where('id', '=', oldQueued.id)
        .execute();
    });
    await dispatcher.runDue();
    expect((await admin.show(freshDelivered.id)).state).toBe('delivered');

    expect(await admin.prune({ older_than: '7d' }, ADMIN)).toEqual({ deleted: 2 });
    expect(await rowCount(delivered.id)).toEqual({ rows: 0, attempts: 0 });
    expect(await rowCount(dead.id)).toEqual({ rows: 0, attempts: 0 });
    expect((await admin.show(oldQueued.id)).state).toBe('queued');
    expect((await admin.show(freshDelivered.id)).state).toBe('delivered');
    const [entry] = await adminEntries();
    expect(entry).toMatchObject({
      rule_id: 'outbox.prune',
      data: { action: 'prune', older_than: '7d', count: 2 },
    });
    expect(await appErrorCodeOf(admin.prune({ older_than: '30s' }, ADMIN))).toBe('INVALID_INPUT');
  });

  it('lists newest first with state, connector and run filters and a cursor that pages without gaps', async () => {
    const run = await services.runs.create({ goal: 'outbox list' }, { actor: 'test' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (await enqueue({ connector: i % 2 === 0 ? 'hook' : 'other', run: i === 3 ? run.id : null }))
          .id,
      );
    const newestFirst = [...ids].reverse();

    const pages: string[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await admin.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      pages.push(page.messages.map((m) => m.id));
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);

    const other = await admin.list({ limit: 100, connector: 'other' });
    expect(other.messages.map((m) => m.id)).toEqual([ids[3], ids[1]]);
    const ofRun = await admin.list({ limit: 100, run: run.id });
    expect(ofRun.messages.map((m) => m.id)).toEqual([ids[3]]);
    expect((await admin.list({ limit: 100, state: 'delivered' })).messages).toEqual([]);
    expect((await admin.list({ limit: 100, state: 'queued' })).messages).toHaveLength(5);
  });

  it('shows content and errors through the redactor, also a secret the host learned after the message was queued', async () => {
    const secret = 'pw-4f9a1c77d2e8b3a6';
    const message = await enqueue({ text: `the password is ${secret}` });
    const handle = services.host.started.redactor.addKnownValue(secret);
    try {
      const detail = await admin.show(message.id);
      expect(detail.content.text).toBe('the password is [REDACTED:secret]');
      expect(JSON.stringify(detail)).not.toContain(secret);
      expect(JSON.stringify(await admin.list({ limit: 10 }))).not.toContain(secret);
    } finally {
      handle.dispose();
    }
  });
});
