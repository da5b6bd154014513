import { DatabaseSync } from 'node:sqlite';
import { toSqlValue } from '../../main/store/sqlite-dialect.ts';

/**
 * A second, plain connection to a database file, bypassing every service: what someone
 * editing the file behind the host's back would do. Each call opens and closes it.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- callers await it, as before
export async function rawSql(
  file: string,
  statement: string,
  params: readonly unknown[] = [],
): Promise<unknown[]> {
  const db = new DatabaseSync(file);
  try {
    return db
      .prepare(statement)
      .all(...params.map(toSqlValue))
      .map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}
