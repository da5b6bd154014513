import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_PRAGMAS } from '../../../main/store/open-store.ts';
import { createSqliteDialect } from '../../../main/store/sqlite-dialect.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

type Db = Kysely<{ t: { id: Generated<number>; v: string } }>;

describe('node:sqlite kysely dialect', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-dialect-');
    db = new Kysely({
      dialect: createSqliteDialect({ filename: `${dir}/d.sqlite`, onOpen: STORE_PRAGMAS }),
    });
    await sql`create table t (id integer primary key, v text not null) strict`.execute(db);
  });
  afterEach(async () => {
    await db.destroy();
    await removeTempDir(dir);
  });

  const count = async (): Promise<number> =>
    (
      await db
        .selectFrom('t')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n;

  it('applies the store pragmas when the connection opens', async () => {
    const one = async (pragma: string): Promise<unknown> =>
      Object.values(
        (await sql.raw<Record<string, unknown>>(`pragma ${pragma}`).execute(db)).rows[0] ?? {},
      )[0];
    expect(await one('journal_mode')).toBe('wal');
    expect(await one('synchronous')).toBe(2); // FULL
    expect(await one('foreign_keys')).toBe(1);
    expect(await one('busy_timeout')).toBe(5000);
  });

  it('reports insertId and numAffectedRows, and runs raw queries', async () => {
    const inserted = await db.insertInto('t').values({ id: 41, v: 'a' }).executeTakeFirstOrThrow();
    expect(inserted.insertId).toBe(41n);
    await db.insertInto('t').values({ v: 'b' }).execute();
    const updated = await db.updateTable('t').set({ v: 'c' }).executeTakeFirstOrThrow();
    expect(updated.numUpdatedRows).toBe(2n);
    const deleted = await db.deleteFrom('t').where('id', '=', 41).executeTakeFirstOrThrow();
    expect(deleted.numDeletedRows).toBe(1n);
    const { rows } = await sql<{ id: number; v: string }>`select id, v from t`.execute(db);
    expect(rows).toEqual([{ id: 42, v: 'c' }]);
    const returned = await db.insertInto('t').values({ v: 'r' }).returning(['id', 'v']).execute();
    expect(returned).toEqual([{ id: 43, v: 'r' }]);
  });

  it('reports numAffectedRows and insertId for raw writes, rows for raw reads and RETURNING', async () => {
    const inserted = await sql`insert into t (v) values (${'x'}), (${'y'})`.execute(db);
    expect(inserted).toMatchObject({ rows: [], numAffectedRows: 2n, insertId: 2n });
    const updated = await sql`update t set v = 'z' where id = ${1}`.execute(db);
    expect(updated.numAffectedRows).toBe(1n);
    const deleted = await sql`with doomed as (select id from t where v = 'y')
      delete from t where id in (select id from doomed)`.execute(db);
    expect(deleted.numAffectedRows).toBe(1n);
    const returned = await sql<{ id: number }>`insert into t (v) values ('r') returning id`.execute(
      db,
    );
    expect(returned.rows).toEqual([{ id: 2 }]);
    const read = await sql<{ v: string }>`select v from t order by id`.execute(db);
    expect(read).toEqual({ rows: [{ v: 'z' }, { v: 'r' }] });
  });

  it('reuses prepared statements: repeated and evicted statements stay correct, and close finalizes them', async () => {
    const file = `${dir}/small-cache.sqlite`;
    const small: Db = new Kysely({
      dialect: createSqliteDialect({
        filename: file,
        onOpen: STORE_PRAGMAS,
        statementCacheSize: 2,
      }),
    });
    try {
      await sql`create table t (id integer primary key, v text not null) strict`.execute(small);
      // Three statement shapes through a cache of two: every round evicts and re-prepares.
      for (let i = 1; i <= 30; i++) {
        const inserted = await small
          .insertInto('t')
          .values({ v: `v${i}` })
          .executeTakeFirst();
        expect(inserted.insertId).toBe(BigInt(i));
        const updated = await small
          .updateTable('t')
          .set({ v: `u${i}` })
          .where('id', '=', i)
          .executeTakeFirst();
        expect(updated.numUpdatedRows).toBe(1n);
        const rows = await small
          .selectFrom('t')
          .select('v')
          .where('id', '>=', i - 1)
          .execute();
        expect(rows.map((r) => r.v)).toEqual(i === 1 ? ['u1'] : [`u${i - 1}`, `u${i}`]);
      }
    } finally {
      await small.destroy();
    }
    // The last connection closed cleanly, so SQLite checkpointed and removed the WAL.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('binds integers as INTEGER and booleans as 0/1, and returns plain rows with Buffer BLOBs', async () => {
    const { rows } = await sql<Record<string, unknown>>`select typeof(${5}) as int_type,
      typeof(${5.5}) as real_type, ${true} as yes, ${false} as no,
      json_object('n', ${7}) as json, 'x' || ${3} as text, x'00ff' as bytes`.execute(db);
    const row = rows[0];
    expect(row).toMatchObject({
      int_type: 'integer',
      real_type: 'real',
      yes: 1,
      no: 0,
      json: '{"n":7}',
      text: 'x3',
    });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Buffer.isBuffer(row?.bytes)).toBe(true);
    expect((row?.bytes as Buffer).toString('hex')).toBe('00ff');
  });

  it('a statement that failed runs again with other parameters', async () => {
    const insert = (id: number) =>
      db
        .insertInto('t')
        .values({ id, v: `v${id}` })
        .execute();
    await insert(1);
    await expect(insert(1)).rejects.toThrow(/UNIQUE/);
    await insert(2);
    expect(await count()).toBe(2);
  });

  it('a cached read holds no snapshot afterwards: another connection checkpoints the whole WAL', async () => {
    await db
      .insertInto('t')
      .values([{ v: 'a' }, { v: 'b' }, { v: 'c' }])
      .execute();
    for (let i = 0; i < 3; i++) await db.selectFrom('t').selectAll().execute();
    await db.insertInto('t').values({ v: 'd' }).execute();
    const [result] = await rawSql(`${dir}/d.sqlite`, 'pragma wal_checkpoint(truncate)');
    // A statement left mid-step would pin its read snapshot and report busy: 1.
    expect(result).toMatchObject({ busy: 0 });
  });

  it('commits a transaction and rolls one back on error', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ v: 'kept' }).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ v: 'dropped' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.selectFrom('t').select('v').execute()).toEqual([{ v: 'kept' }]);
    // A failed statement does not leave the connection inside a transaction.
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 1, v: 'x' }).execute();
        await trx.insertInto('t').values({ id: 1, v: 'duplicate' }).execute();
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await count()).toBe(1);
  });

  it('callers outside a transaction wait for it instead of interleaving with it', async () => {
    let outside: Promise<unknown> | undefined;
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ v: 'inside' }).execute();
        outside = db.insertInto('t').values({ v: 'outside' }).execute();
        await sleep(30);
        // Had the outside insert run on the shared connection, it would be visible here
        // and be rolled back with this transaction.
        expect(await trx.selectFrom('t').select('v').execute()).toEqual([{ v: 'inside' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await outside;
    expect(await db.selectFrom('t').select('v').execute()).toEqual([{ v: 'outside' }]);
  });

  it('runs concurrent transactions one after the other', async () => {
    const log: string[] = [];
    const work = (name: string) =>
      db.transaction().execute(async (trx) => {
        log.push(`${name} begin`);
        await trx.insertInto('t').values({ v: name }).execute();
        await sleep(5);
        log.push(`${name} end`);
      });
    await Promise.all([work('a'), work('b'), work('c')]);
    expect(log).toEqual(['a begin', 'a end', 'b begin', 'b end', 'c begin', 'c end']);
    expect(await count()).toBe(3);
  });
});
