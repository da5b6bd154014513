import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../main/store/migrations/index.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

describe('migration 0160-outbox', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-migration-0160-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('adds STRICT outbox tables whose idempotency key is unique and whose state is one of four', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0160-outbox');
    expect(upTo).toBeGreaterThan(0);
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const db = store.db as unknown as Kysely<unknown>;
      const { rows: tables } = await sql<{ name: string; strict: number }>`
        select name, strict from pragma_table_list where name like 'outbox%' order by name`.execute(
        db,
      );
      expect(tables).toEqual([
        { name: 'outbox', strict: 1 },
        { name: 'outbox_attempts', strict: 1 },
      ]);
      const insert = (id: string, key: string, state: string) =>
        sql`insert into outbox (id, idempotency_key, connector_id, channel_id, content, content_sha256,
              label, state, max_attempts, next_attempt_at, created_at, updated_at)
            values (${id}, ${key}, 'c', 'ch', '{}', 'h', '[]', ${state}, 3, 't', 't', 't')`.execute(
          db,
        );
      await insert('obx_1', 'key-1', 'queued');
      await expect(insert('obx_2', 'key-1', 'queued')).rejects.toThrow(/UNIQUE/);
      await expect(insert('obx_3', 'key-3', 'sent')).rejects.toThrow(/CHECK/);
    } finally {
      await store.close();
    }
  });
});
