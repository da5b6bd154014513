import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxDispatcher } from '../../../main/outbox/dispatcher.ts';
import { claimDueIn, enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { manualWakeTimer, type ManualWakeTimer } from '../../support/manual-wake-timer.ts';
import { startOutboxReceiver, type OutboxReceiver } from '../../support/outbox-receiver.ts';
import {
  manualClock,
  openTestServices,
  type ManualClock,
  type TestServices,
} from '../../support/test-store.ts';
import { testDispatcher, testMessage } from './test-dispatcher.ts';

const LEASE_MS = 60_000;

/**
 * A host restarted after SIGKILL holds the data dir's lock, so the leases it finds were taken
 * by the dead host: it retries those rows at once rather than after the lease (issue 23 soak).
 */
describe('outbox rows left in flight by a dead host', () => {
  let services: TestServices;
  let clock: ManualClock;
  let timer: ManualWakeTimer;
  let receiver: OutboxReceiver;
  let dispatcher: OutboxDispatcher | undefined;

  beforeEach(async () => {
    clock = manualClock('2026-12-03T10:00:00.000Z');
    timer = manualWakeTimer();
    services = await openTestServices({ clock });
    receiver = await startOutboxReceiver(() => ({ status: 200 }));
  });
  afterEach(async () => {
    await dispatcher?.dispose();
    dispatcher = undefined;
    await receiver.close();
    await services.close();
  });

  /** A row the dead host claimed (attempt 1 started, lease running) and never settled. */
  async function leftInFlight(maxAttempts: number): Promise<string> {
    return services.chain.transact(async (tx) => {
      const row = await enqueueIn(
        tx,
        testMessage('sent when the host died', clock.now(), { max_attempts: maxAttempts }),
      );
      await claimDueIn(tx, { owner: 'host_dead', now: clock.now(), leaseMs: LEASE_MS, limit: 1 });
      return row.id;
    });
  }

  function restartedDispatcher(soleWriter: boolean): OutboxDispatcher {
    dispatcher = testDispatcher(services, {
      url: receiver.url,
      clock,
      timer,
      leaseMs: LEASE_MS,
      soleWriter,
    });
    return dispatcher;
  }

  const rowOf = (id: string) =>
    services.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  it('the sole writer retries the dead host’s row at its first pass, with the same key', async () => {
    const id = await leftInFlight(8);
    await restartedDispatcher(true).runDue();
    const row = await rowOf(id);
    expect([row.state, row.attempts]).toEqual(['delivered', 2]);
    expect(receiver.requests.map((r) => r.key)).toEqual([row.idempotency_key]);
    expect((await services.chain.verify()).ok).toBe(true);
  });

  it('a dispatcher that may share the database waits the lease out', async () => {
    const id = await leftInFlight(8);
    await restartedDispatcher(false).runDue();
    expect((await rowOf(id)).state).toBe('in_flight');
    expect(receiver.requests).toEqual([]);
    expect(timer.armed).toBe(LEASE_MS);
  });

  it('a dead host’s last allowed attempt is dead at once, not sent a second time', async () => {
    const id = await leftInFlight(1);
    await restartedDispatcher(true).runDue();
    const row = await rowOf(id);
    expect([row.state, row.last_error_category]).toEqual(['dead', 'lease_expired']);
    expect(receiver.requests).toEqual([]);
  });
});
