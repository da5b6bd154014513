import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../main/store/migrations/index.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

describe('migration 0140-value-labels', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-migration-0140-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('adds label, taint and source to steps and a STRICT call_windows table tied to runs', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0140-value-labels');
    expect(upTo).toBeGreaterThan(0);
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const db = store.db as unknown as Kysely<unknown>;
      const { rows: columns } = await sql<{ name: string }>`
        select name from pragma_table_info('steps')`.execute(db);
      expect(columns.map((c) => c.name).slice(-3)).toEqual([
        'output_label',
        'output_taint',
        'output_source',
      ]);
      const { rows: tables } = await sql<{ strict: number }>`
        select strict from pragma_table_list where name = 'call_windows'`.execute(db);
      expect(tables).toEqual([{ strict: 1 }]);
      // A window belongs to a run: one for a run that does not exist is refused.
      await expect(
        sql`insert into call_windows values ('run_missing', 'c1', 'stp_2', '[]', 'trusted', '[]', 'h', '{}')`.execute(
          db,
        ),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });
});
