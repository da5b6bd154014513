import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../main/store/migrations/index.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

describe('migration 0150-connector-inbound', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-migration-0150-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('creates the four STRICT tables; a message is unique per connector and external id', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0150-connector-inbound');
    expect(upTo).toBeGreaterThan(0);
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const db = store.db as unknown as Kysely<unknown>;
      for (const name of [
        'connector_adapters',
        'connector_connections',
        'connector_messages',
        'connector_inbound_seen',
      ]) {
        const { rows } = await sql<{ strict: number }>`
          select strict from pragma_table_list where name = ${name}`.execute(db);
        expect(rows, name).toEqual([{ strict: 1 }]);
      }
      await sql`insert into connector_inbound_seen values ('c', 'sig', 't')`.execute(db);
      await expect(
        sql`insert into connector_inbound_seen values ('c', 'sig', 't2')`.execute(db),
      ).rejects.toThrow(/UNIQUE/);
      // A connection belongs to a session.
      await expect(
        sql`insert into connector_connections values ('k', 'c', 'ch', 'approved', 'ses_missing', null, null, 't', null)`.execute(
          db,
        ),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });
});
