import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../main/store/migrations/index.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

describe('0110-governed-memory', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-migration-0110-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('gives every item an id, untrusted taint and the audience its namespace had, keyed per audience', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0110-governed-memory');
    const old = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo) });
    const t = '2026-01-01T00:00:00.000Z';
    try {
      await sql`insert into sessions (id, origin, state, created_at, owner)
        values ('ses_1', 'api', 'active', ${t}, 'admin')`.execute(old.db);
      await sql`insert into runs (id, session_id, goal, state, budget, usage, policy_pack,
          created_by, created_at, updated_at)
        values ('run_1', 'ses_1', 'g', 'done', '{}', '{}', 'default', 'admin', ${t}, ${t})`.execute(
        old.db,
      );
      const item = (namespace: string, runId: string | null) =>
        sql`insert into memory (namespace, key, value, label, source, run_id, updated_at)
          values (${namespace}, 'k', '"v"', 'internal.system', 'x', ${runId}, ${t})`.execute(
          old.db,
        );
      await item('run:run_1', 'run_1');
      await item('skill:alpha:notes', 'run_1');
      await item('profile', null);
    } finally {
      await old.close();
    }
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const { rows } = await sql<Record<string, unknown>>`
        select namespace, taint, audience, audience_id, session_id, created_at, label,
               id like 'mem_%' as has_id
        from memory order by namespace`.execute(store.db);
      expect(rows).toEqual([
        {
          namespace: 'profile',
          taint: 'untrusted',
          audience: 'namespace',
          audience_id: '',
          session_id: null,
          created_at: t,
          label: 'internal.system',
          has_id: 1,
        },
        {
          namespace: 'run:run_1',
          taint: 'untrusted',
          audience: 'run',
          audience_id: 'run_1',
          session_id: 'ses_1',
          created_at: t,
          label: 'internal.system',
          has_id: 1,
        },
        {
          namespace: 'skill:alpha:notes',
          taint: 'untrusted',
          audience: 'namespace',
          audience_id: '',
          session_id: 'ses_1',
          created_at: t,
          label: 'internal.system',
          has_id: 1,
        },
      ]);
      // The same key for another audience is a second item, not an overwrite.
      await sql`insert into memory (id, namespace, key, value, label, taint, source, audience,
          audience_id, created_at, updated_at)
        values ('mem_b', 'profile', 'k', '"w"', 'public', 'trusted', 'host', 'session', 'ses_2',
          ${t}, ${t})`.execute(store.db);
      await expect(
        sql`insert into memory (id, namespace, key, value, label, taint, source, audience,
            audience_id, created_at, updated_at)
          values ('mem_c', 'profile', 'k', '"w"', 'public', 'trusted', 'host', 'session', 'ses_2',
            ${t}, ${t})`.execute(store.db),
      ).rejects.toThrow(/UNIQUE/);
      const { rows: strict } = await sql<{ strict: number }>`
        select strict from pragma_table_list where name = 'memory'`.execute(store.db);
      expect(strict).toEqual([{ strict: 1 }]);
    } finally {
      await store.close();
    }
  });
});
