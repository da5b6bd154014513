import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_PRAGMAS } from '../../../main/store/open-store.ts';
import { createSqlite3Dialect } from '../../../main/store/sqlite3-dialect.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

type Db = Kysely<{ t: { id: Generated<number>; v: string } }>;

describe('sqlite3 kysely dialect', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-dialect-');
    db = new Kysely({
      dialect: createSqlite3Dialect({ filename: `${dir}/d.sqlite`, onOpen: STORE_PRAGMAS }),
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
