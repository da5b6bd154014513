import sqlite3 from 'sqlite3';

/**
 * A second, plain connection to a database file, bypassing every service: what someone
 * editing the file behind the host's back would do. Each call opens and closes it.
 */
export async function rawSql(
  file: string,
  statement: string,
  params: readonly unknown[] = [],
): Promise<unknown[]> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(file, (err) => {
      if (err === null) resolve(opened);
      else reject(err);
    });
  });
  try {
    return await new Promise<unknown[]>((resolve, reject) => {
      db.all(statement, params, (err: Error | null, rows: unknown[]) => {
        if (err === null) resolve(rows);
        else reject(err);
      });
    });
  } finally {
    await new Promise<void>((resolve, reject) => {
      db.close((err) => {
        if (err === null) resolve();
        else reject(err);
      });
    });
  }
}
