import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDueIn, enqueueIn, expireExhaustedIn } from '../../../main/outbox/outbox-store.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import { manualClock, openTestServices, type TestServices } from '../../support/test-store.ts';

const LEASE_MS = 30_000;

describe('outbox leases live in the row (issue 23)', () => {
  let services: TestServices;
  const clock = manualClock('2026-12-03T10:00:00.000Z');

  beforeEach(async () => {
    services = await openTestServices({ clock });
  });
  afterEach(async () => {
    await services.close();
  });

  const claim = (owner: string) =>
    services.chain.transact((tx) =>
      claimDueIn(tx, { owner, now: clock.now(), leaseMs: LEASE_MS, limit: 10 }),
    );

  it('lets a second host take a row only once the first host’s lease has expired, and dead-letters it after the last attempt', async () => {
    const queued = await services.chain.transact((tx) =>
      enqueueIn(tx, {
        connector_id: 'hook',
        channel_id: 'ch',
        content: { text: 'hi' },
        label: PUBLIC,
        run_id: null,
        step_id: null,
        session_id: null,
        max_attempts: 2,
        actor: 'test',
        now: clock.now(),
      }),
    );
    expect((await claim('host_a')).map((r) => [r.id, r.lease_owner, r.attempts])).toEqual([
      [queued.id, 'host_a', 1],
    ]);
    clock.advance(LEASE_MS - 1);
    expect(await claim('host_b')).toEqual([]);
    clock.advance(1);
    expect((await claim('host_b')).map((r) => [r.lease_owner, r.attempts])).toEqual([
      ['host_b', 2],
    ]);
    // host_b dies too, during the last allowed attempt: nobody may try a third time.
    clock.advance(LEASE_MS);
    expect(await claim('host_c')).toEqual([]);
    const dead = await services.chain.transact((tx) => expireExhaustedIn(tx, clock.now()));
    expect(dead.map((r) => [r.state, r.last_error_category])).toEqual([['dead', 'lease_expired']]);
  });
});
