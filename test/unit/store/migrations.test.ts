import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { MIGRATIONS, type Migration } from '../../../main/store/migrations/index.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

type SchemaObject = { type: string; name: string; sql: string | null };

/** Every table, index and trigger, with the SQL that made it. */
async function schemaOf(
  dataDir: string,
  migrations: readonly Migration[],
): Promise<SchemaObject[]> {
  const store = await openStore({ dataDir, migrations });
  try {
    const { rows } = await sql<SchemaObject>`
      select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name
    `.execute(store.db);
    return rows;
  } finally {
    await store.close();
  }
}

async function strictTables(db: Kysely<unknown>): Promise<Map<string, boolean>> {
  const { rows } = await sql<{ name: string; strict: number }>`
    select name, strict from pragma_table_list where schema = 'main' and name not like 'sqlite_%'
  `.execute(db);
  return new Map(rows.map((r) => [r.name, r.strict === 1]));
}

async function columnsOf(db: Kysely<unknown>, table: string): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from pragma_table_info(${table})`.execute(db);
  return rows.map((r) => r.name);
}

describe('migrations', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-migrations-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('are numbered, zero-padded, kebab-case and strictly increasing', () => {
    const names = MIGRATIONS.map((m) => m.name);
    for (const name of names) expect(name).toMatch(/^\d{4}-[a-z0-9]+(-[a-z0-9]+)*$/);
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('0001-core-tables creates the core tables, STRICT, with the expected columns', async () => {
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, 1) });
    try {
      expect(store.applied).toEqual(['0001-core-tables']);
      const strict = await strictTables(store.db as unknown as Kysely<unknown>);
      const core = [
        'sessions',
        'runs',
        'goals',
        'steps',
        'checkpoints',
        'approvals',
        'chain',
        'tokens',
      ];
      for (const table of core) expect(strict.get(table), table).toBe(true);
      const db = store.db as unknown as Kysely<unknown>;
      expect(await columnsOf(db, 'runs')).toEqual([
        'id',
        'session_id',
        'goal',
        'state',
        'state_reason',
        'budget',
        'usage',
        'policy_pack',
        'completion',
        'parent_run_id',
        'created_by',
        'created_at',
        'updated_at',
      ]);
      expect(await columnsOf(db, 'chain')).toEqual([
        'seq',
        'event_id',
        'event_type',
        'timestamp',
        'session_id',
        'run_id',
        'step_id',
        'policy_pack_version',
        'capability_id',
        'capability_version',
        'rule_id',
        'correlation_id',
        'actor',
        'data',
        'prev_hash',
        'hash',
      ]);
      expect(await columnsOf(db, 'goals')).toEqual([
        'run_id',
        'ordinal',
        'text',
        'predicate',
        'state',
      ]);
      expect(await columnsOf(db, 'sessions')).toEqual(['id', 'origin', 'state', 'created_at']);
      // STRICT: a value of the wrong type is refused, not stored as is.
      await expect(
        sql`insert into goals (run_id, ordinal, text, state) values ('r', 'not a number', 't', 'open')`.execute(
          db,
        ),
      ).rejects.toThrow(/cannot store TEXT value in INTEGER column/);
    } finally {
      await store.close();
    }
  });

  it.each(MIGRATIONS.map((m, i) => [m.name, i] as const))(
    '%s applies once on top of its predecessors, adds only STRICT tables, and a second open is a no-op',
    async (name, index) => {
      const before = await schemaOf(dataDir, MIGRATIONS.slice(0, index));
      const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, index + 1) });
      let after: SchemaObject[];
      try {
        expect(store.applied).toEqual([name]);
        const strict = await strictTables(store.db as unknown as Kysely<unknown>);
        const { rows } = await sql<SchemaObject>`
          select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name
        `.execute(store.db);
        after = rows;
        const added = after.filter((o) => !before.some((b) => b.name === o.name));
        // A migration adds an object or changes one (a column added by `alter table`).
        const changed = after.filter(
          (o) => !before.some((b) => b.name === o.name && b.sql === o.sql),
        );
        expect(changed.length, 'the migration adds or changes something').toBeGreaterThan(0);
        for (const table of added.filter((o) => o.type === 'table')) {
          expect(strict.get(table.name), table.name).toBe(true);
        }
      } finally {
        await store.close();
      }
      const again = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, index + 1) });
      await again.close();
      expect(again.applied).toEqual([]);
      expect(await schemaOf(dataDir, MIGRATIONS.slice(0, index + 1))).toEqual(after);
    },
  );

  it('0010-skill-memory-scope moves global skill items to each declaring skill and drops the unreachable', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0010-skill-memory-scope');
    const old = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo) });
    try {
      const t = '2026-01-01T00:00:00.000Z';
      const skill = (id: string, namespaces: string[]) =>
        sql`insert into skills (skill_id, version, manifest, source, enabled, installed_at)
          values (${id}, '2.0.0', ${JSON.stringify({ permissions: { memory_namespaces: namespaces } })},
            '/x', 1, ${t})`.execute(old.db);
      await skill('alpha', ['notes']);
      await skill('beta', ['notes', 'cache']);
      await skill('gamma', ['other']);
      const item = (namespace: string, key: string, source: string) =>
        sql`insert into memory (namespace, key, value, label, source, updated_at)
          values (${namespace}, ${key}, '"v"', 'internal.system', ${source}, ${t})`.execute(old.db);
      await item('notes', 'n1', 'skill:notes');
      await item('cache', 'c1', 'skill:cache');
      await item('orphan', 'o1', 'skill:orphan');
      await item('run:run_1', 'k', 'agent:run_1');
      await item('profile', 'display_name', 'person');
    } finally {
      await old.close();
    }
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const { rows } = await sql<{ namespace: string; key: string; source: string }>`
        select namespace, key, source from memory order by namespace, key`.execute(store.db);
      expect(rows).toEqual([
        { namespace: 'profile', key: 'display_name', source: 'person' },
        { namespace: 'run:run_1', key: 'k', source: 'agent:run_1' },
        { namespace: 'skill:alpha:notes', key: 'n1', source: 'skill:alpha@2.0.0' },
        { namespace: 'skill:beta:cache', key: 'c1', source: 'skill:beta@2.0.0' },
        { namespace: 'skill:beta:notes', key: 'n1', source: 'skill:beta@2.0.0' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('0011-onboarding-call-started adds call_started_at, empty for existing setups', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0011-onboarding-call-started');
    const old = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo) });
    try {
      await sql`insert into skill_onboarding (skill_id, state, step, completed, updated_at)
        values ('alpha', 'NEEDS_SETUP', 0, '[]', '2026-01-01T00:00:00.000Z')`.execute(old.db);
    } finally {
      await old.close();
    }
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const { rows } = await sql<{ skill_id: string; call_started_at: string | null }>`
        select skill_id, call_started_at from skill_onboarding`.execute(store.db);
      expect(rows).toEqual([{ skill_id: 'alpha', call_started_at: null }]);
    } finally {
      await store.close();
    }
  });

  it('0030-session-owner gives each existing session the actor that created it', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0030-session-owner');
    const old = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo) });
    try {
      const t = '2026-01-01T00:00:00.000Z';
      for (const id of ['ses_chain', 'ses_run', 'ses_bare']) {
        await sql`insert into sessions (id, origin, state, created_at)
          values (${id}, 'connector', 'active', ${t})`.execute(old.db);
      }
      await sql`insert into chain (seq, event_id, event_type, timestamp, session_id, step_id,
          policy_pack_version, actor, data, prev_hash, hash)
        values (1, 'evt_1', 'session.created', ${t}, 'ses_chain', 's', '1', 'connector:alpha',
          '{}', 'p', 'h')`.execute(old.db);
      await sql`insert into runs (id, session_id, goal, state, budget, usage, policy_pack,
          created_by, created_at, updated_at)
        values ('run_1', 'ses_run', 'g', 'done', '{}', '{}', 'default', 'connector:beta',
          ${t}, ${t})`.execute(old.db);
    } finally {
      await old.close();
    }
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const { rows } = await sql<{ id: string; owner: string }>`
        select id, owner from sessions order by id`.execute(store.db);
      expect(rows).toEqual([
        { id: 'ses_bare', owner: 'host' },
        { id: 'ses_chain', owner: 'connector:alpha' },
        { id: 'ses_run', owner: 'connector:beta' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('0070-run-notes creates run_notes and run_interrupts, STRICT, tied to existing runs', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0070-run-notes');
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const strict = await strictTables(store.db as unknown as Kysely<unknown>);
      expect(strict.get('run_notes')).toBe(true);
      expect(strict.get('run_interrupts')).toBe(true);
      const db = store.db as unknown as Kysely<unknown>;
      expect(await columnsOf(db, 'run_notes')).toEqual([
        'id',
        'run_id',
        'text',
        'created_by',
        'created_at',
        'delivered_at',
        'delivered_segment',
      ]);
      expect(await columnsOf(db, 'run_interrupts')).toEqual([
        'id',
        'run_id',
        'reason',
        'created_by',
        'created_at',
        'applied_at',
      ]);
      // A note for a run that does not exist is refused by the database itself.
      await expect(
        sql`insert into run_notes (id, run_id, text, created_by, created_at)
          values ('note_1', 'run_missing', 'hi', 'admin', '2026-01-01T00:00:00.000Z')`.execute(db),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });

  it('0120-quarantine creates quarantine and transform_outputs, STRICT, tied to sessions and runs', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0120-quarantine');
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const db = store.db as unknown as Kysely<unknown>;
      const strict = await strictTables(db);
      expect(strict.get('quarantine')).toBe(true);
      expect(strict.get('transform_outputs')).toBe(true);
      // No plaintext column: the sender is a keyed hash, the content a sealed blob.
      expect(await columnsOf(db, 'quarantine')).toEqual([
        'pointer',
        'session_id',
        'sender_key',
        'channel_id',
        'label',
        'nonce',
        'tag',
        'ciphertext',
        'created_at',
        'expires_at',
      ]);
      await expect(
        sql`insert into quarantine (pointer, session_id, sender_key, channel_id, label, nonce, tag,
            ciphertext, created_at, expires_at)
          values ('q_1', 'ses_missing', 'k', 'c', '[]', x'00', x'00', x'00', 't', 't')`.execute(db),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });

  it('a migration numbered below one already applied (a reserved number landing late) still runs', async () => {
    const late = '0070-run-notes';
    const old = await openStore({ dataDir, migrations: MIGRATIONS.filter((m) => m.name !== late) });
    await old.close();
    const store = await openStore({ dataDir });
    try {
      expect(store.applied).toEqual([late]);
      const strict = await strictTables(store.db as unknown as Kysely<unknown>);
      expect(strict.get('run_notes')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('0060-run-driver makes every existing run a worker run', async () => {
    const upTo = MIGRATIONS.findIndex((m) => m.name === '0060-run-driver');
    const old = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo) });
    try {
      const t = '2026-01-01T00:00:00.000Z';
      await sql`insert into sessions (id, origin, owner, state, created_at)
        values ('ses_1', 'api', 'admin', 'active', ${t})`.execute(old.db);
      await sql`insert into runs (id, session_id, goal, state, budget, usage, policy_pack,
          created_by, created_at, updated_at)
        values ('run_1', 'ses_1', 'g', 'running', '{}', '{}', 'default', 'admin', ${t}, ${t})`.execute(
        old.db,
      );
    } finally {
      await old.close();
    }
    const store = await openStore({ dataDir, migrations: MIGRATIONS.slice(0, upTo + 1) });
    try {
      const { rows } = await sql<{ id: string; driver: string }>`
        select id, driver from runs`.execute(store.db);
      expect(rows).toEqual([{ id: 'run_1', driver: 'worker' }]);
    } finally {
      await store.close();
    }
  });

  it('a failing migration stops start-up with MIGRATION_FAILED naming it and leaves the db as before', async () => {
    const before = await schemaOf(dataDir, MIGRATIONS);
    const broken: Migration[] = [
      {
        name: '9998-fine-on-its-own',
        up: async (db) => {
          await sql`create table fine (id integer primary key) strict`.execute(db);
        },
      },
      {
        name: '9999-broken',
        up: async (db) => {
          await sql`create table half_done (id integer primary key) strict`.execute(db);
          await sql`insert into no_such_table values (1)`.execute(db);
        },
      },
    ];
    const error: unknown = await openStore({
      dataDir,
      migrations: [...MIGRATIONS, ...broken],
    }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isAppError(error, 'MIGRATION_FAILED')).toBe(true);
    expect(error).toMatchObject({ details: { migration: '9999-broken' } });
    expect((error as Error).message).toContain('9999-broken');
    expect((error as Error).message).toContain('no_such_table');
    // Nothing of the batch stayed: not the half-done migration, not the good one before it.
    expect(await schemaOf(dataDir, MIGRATIONS)).toEqual(before);
    const store = await openStore({ dataDir, migrations: MIGRATIONS });
    try {
      const { rows } = await sql<{
        name: string;
      }>`select name from schema_migrations order by name`.execute(store.db);
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await store.close();
    }
  });
});
