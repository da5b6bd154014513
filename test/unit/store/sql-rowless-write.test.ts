import { describe, expect, it } from 'vitest';
import { isRowlessWrite } from '../../../main/store/sql-rowless-write.ts';

describe('isRowlessWrite', () => {
  it.each([
    'insert into t (v) values (?)',
    'INSERT OR REPLACE INTO t (v) VALUES (?)',
    'replace into t (v) values (1)',
    'update "t" set "v" = ? where "id" = ?',
    'delete from t where id in (select id from u)',
    '  -- leading comment\n  /* and another */ update t set v = 1',
    'with old as (select id from t where v = 1) delete from t where id in (select id from old)',
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 5) INSERT INTO t (v) SELECT x FROM n',
    "update t set v = 'returning'",
    'update t set v = "returning" where v = `returning`',
  ])('a write without RETURNING: %s', (sql) => {
    expect(isRowlessWrite(sql)).toBe(true);
  });

  it.each([
    'select * from t',
    'values (1), (2)',
    'insert into t (v) values (?) returning id',
    'update t set v = 1 returning *',
    'delete from t where id = 1 RETURNING id, v',
    'with x as (select 1) select * from x',
    "with x as (select 'delete') select * from x",
    'pragma journal_mode = wal',
    'begin immediate',
    'commit',
    'create table t (id integer primary key)',
    'explain query plan update t set v = 1',
    '',
    '/* update t set v = 1 */ select 1',
    "select replace(v, 'a', 'b') from t",
  ])('not a rowless write: %s', (sql) => {
    expect(isRowlessWrite(sql)).toBe(false);
  });
});
