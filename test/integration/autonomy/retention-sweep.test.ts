import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryItem } from '../../../contracts/memory.ts';
import { manualWakeTimer } from '../../support/manual-wake-timer.ts';
import { manualClock } from '../../support/test-store.ts';
import {
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

const HOUR_MS = 60 * 60 * 1000;
/** A value only the memory item and the run's payloads hold. */
const VALUE = 'the parcel is with the concierge, ticket 4471';
const RETAIN = pack('retain', {
  retention: {
    quarantine_ttl_ms: HOUR_MS,
    memory_default_expiry_ms: HOUR_MS,
    payload_retention_ms: 2 * HOUR_MS,
  },
});

/**
 * Retention (issue 22): memory items past `expires_at` and the payloads of runs ended longer
 * ago than the pack's `payload_retention_ms` are deleted by the host's sweep, each deletion an
 * audited entry naming counts, never values. Real host, real worker; the clock and the
 * sweep's timer are moved by hand.
 */
describe('the retention sweep', () => {
  let h: AutonomyHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('deletes expired memory and purges payloads past retention, on the host’s timer, audited', async () => {
    const clock = manualClock(new Date().toISOString());
    const timer = manualWakeTimer();
    h = await startAutonomyHost({
      transcript: {
        entries: [
          callEntry('m1', 'ccos__memory_put', { key: 'parcel', value: VALUE, ttl_seconds: 60 }),
          callEntry('m2', 'ccos__memory_put', { key: 'kept', value: 'for a while' }),
          doneEntry(),
        ],
      },
      installEchoNotes: false,
      packs: [RETAIN],
      clock,
      retentionTimer: timer,
    });
    const db = h.started.store.db;
    const created = await h.createRun({ goal: 'Remember the parcel.', policy_pack: RETAIN.id });
    const run = await h.settle(created.id);
    expect(run.state, run.state_reason ?? '').toBe('done');
    const items = async (): Promise<MemoryItem[]> =>
      ((await h?.request('GET', `/v1/memory?run_id=${run.id}`))?.body as { items: MemoryItem[] })
        .items;
    expect((await items()).map((i) => i.key).sort()).toEqual(['kept', 'parcel']);
    const live = async (): Promise<number> =>
      (
        await db
          .selectFrom('payloads')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('run_id', '=', run.id)
          .where('content', 'is not', null)
          .executeTakeFirstOrThrow()
      ).n;
    expect(await live()).toBeGreaterThan(0);

    // Past the item's minute, the pack's default hour for the other, and the two hours of
    // payload retention after the run ended: one sweep deletes all of it.
    expect(timer.armed).toBeGreaterThan(0);
    clock.advance(2 * HOUR_MS + 1000);
    timer.fire();
    const purged = await h.waitForEntry((e) => e.event_type === 'memory.purged');
    expect(purged.data).toMatchObject({ reason: 'expired', purged: 2 });
    const payloads = await h.waitForEntry(
      (e) => e.event_type === 'payloads.purged' && e.run_id === run.id,
    );
    expect(payloads.data).toMatchObject({ reason: 'retention' });
    expect(await items()).toEqual([]);
    expect(await live()).toBe(0);
    expect(JSON.stringify([purged, payloads])).not.toContain(VALUE);
    expect(JSON.stringify(purged)).not.toContain('parcel');
  });
});
