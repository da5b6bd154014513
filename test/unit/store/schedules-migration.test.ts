import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/** Migration 0040: the fire row is the claim, so its key must refuse a second claim. */
describe('0040-schedules', () => {
  let dataDir: string;
  let store: Store;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-0040-');
    store = await openStore({ dataDir });
    await sql`insert into schedules (id, trigger, target, overlap, catch_up, catch_up_window_ms,
      jitter_ms, caps, state, created_by, created_at, updated_at)
      values ('sch_1', '{}', '{}', 'skip', 'latest', 3600000, 0, '{}', 'active', 'admin', 't', 't')`.execute(
      store.db,
    );
  });
  afterEach(async () => {
    await store.close();
    await removeTempDir(dataDir);
  });

  const claim = (source: string, instant: string) =>
    sql`insert into schedule_fires (schedule_id, source, instant, due_at, claimed_at, outcome)
      values ('sch_1', ${source}, ${instant}, ${instant}, ${instant}, 'started')`.execute(store.db);

  it('refuses a second fire row for the same (schedule, source, instant)', async () => {
    await claim('schedule', '2026-01-01T00:00:00.000Z');
    await expect(claim('schedule', '2026-01-01T00:00:00.000Z')).rejects.toThrow(/UNIQUE/);
    // A manual fire at the same instant is another claim.
    await claim('manual', '2026-01-01T00:00:00.000Z');
  });

  it('refuses outcomes, sources and policies outside the contract', async () => {
    await expect(claim('cron', '2026-01-01T00:00:00.000Z')).rejects.toThrow(/CHECK/);
    await expect(
      sql`update schedules set overlap = 'queue_all' where id = 'sch_1'`.execute(store.db),
    ).rejects.toThrow(/CHECK/);
    await expect(
      sql`insert into schedule_fires (schedule_id, source, instant, due_at, claimed_at, outcome)
        values ('sch_1', 'schedule', 'x', 'x', 'x', 'maybe')`.execute(store.db),
    ).rejects.toThrow(/CHECK/);
  });
});
