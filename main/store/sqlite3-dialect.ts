import sqlite3 from 'sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { isRowlessWrite } from './sql-rowless-write.ts';
import { StatementCache } from './statement-cache.ts';

/**
 * A kysely dialect over the async `sqlite3` package. Kysely ships a dialect only for the
 * synchronous better-sqlite3 API, so this adapts sqlite3's callbacks. One connection,
 * handed out exclusively: SQLite has one writer anyway, and exclusivity keeps a
 * transaction's statements from interleaving with other callers'.
 */
export type Sqlite3DialectConfig = {
  filename: string;
  /** Statements run once when the connection opens (pragmas). */
  onOpen?: readonly string[];
  /** Prepared statements kept per connection (default `STATEMENT_CACHE_SIZE`). */
  statementCacheSize?: number;
  /**
   * Counts the statements run (each a round trip to sqlite3's thread pool): what a hot path
   * costs in statements is a figure the benchmarks report, independent of the machine.
   */
  counter?: StatementCounter;
};

export type StatementCounter = { statements: number };

export function createSqlite3Dialect(config: Sqlite3DialectConfig): Dialect {
  return {
    createAdapter: () => new TransactionalDdlSqliteAdapter(),
    createDriver: () => new Sqlite3Driver(config),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/**
 * SQLite runs DDL inside transactions; kysely's adapter says it does not, which would make
 * its Migrator apply a batch of migrations without one. Saying so lets a failed migration
 * roll back the whole batch.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class Sqlite3Driver implements Driver {
  readonly #config: Sqlite3DialectConfig;
  #connection: Sqlite3Connection | undefined;
  #mutex = new ConnectionMutex();

  constructor(config: Sqlite3DialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    const db = await openDatabase(this.#config.filename);
    this.#connection = new Sqlite3Connection(
      db,
      this.#config.statementCacheSize ?? STATEMENT_CACHE_SIZE,
      this.#config.counter ?? { statements: 0 },
    );
    for (const statement of this.#config.onOpen ?? []) {
      await this.#connection.executeQuery(CompiledQuery.raw(statement));
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    if (this.#connection === undefined) throw new Error('sqlite3 driver used after destroy');
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // IMMEDIATE takes the write lock up front, so a transaction that reads then writes
    // cannot fail half-way with SQLITE_BUSY when another process holds the database.
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  releaseConnection(): Promise<void> {
    this.#mutex.unlock();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) await connection.close();
  }
}

function openDatabase(filename: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(filename, (err) => {
      if (err === null) resolve(db);
      else reject(err);
    });
  });
}

/** Statements kept prepared per connection; a run transition uses six, the host a few dozen. */
export const STATEMENT_CACHE_SIZE = 100;

type Prepared = { statement: sqlite3.Statement; rowlessWrite: boolean };

class Sqlite3Connection implements DatabaseConnection {
  readonly #db: sqlite3.Database;
  readonly #statements: StatementCache<Prepared>;
  readonly #counter: StatementCounter;

  constructor(db: sqlite3.Database, statementCacheSize: number, counter: StatementCounter) {
    this.#db = db;
    this.#counter = counter;
    this.#statements = new StatementCache({
      capacity: statementCacheSize,
      prepare: (sql) => prepare(db, sql),
      finalize: ({ statement }) => finalize(statement),
    });
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiledQuery.parameters as unknown[];
    this.#counter.statements += 1;
    // sqlite3 resets a statement (and clears its bindings) at the start of every run/all,
    // and both step it to completion, so a cached statement never holds a read snapshot
    // open between queries.
    return this.#statements.use(compiledQuery.sql, ({ statement, rowlessWrite }) =>
      rowlessWrite ? runStatement<R>(statement, params) : allRows<R>(statement, params),
    );
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by the sqlite3 dialect');
  }

  async close(): Promise<void> {
    // sqlite3 refuses to close a connection that still has unfinalized statements.
    await this.#statements.close();
    await new Promise<void>((resolve, reject) => {
      this.#db.close((err) => {
        if (err === null) resolve();
        else reject(err);
      });
    });
  }
}

function prepare(db: sqlite3.Database, sql: string): Promise<Prepared> {
  return new Promise((resolve, reject) => {
    const statement = db.prepare(sql, (err: Error | null) => {
      if (err === null) resolve({ statement, rowlessWrite: isRowlessWrite(sql) });
      else reject(err);
    });
  });
}

function finalize(statement: sqlite3.Statement): Promise<void> {
  return new Promise((resolve) => {
    statement.finalize(() => {
      resolve();
    });
  });
}

function allRows<R>(statement: sqlite3.Statement, params: unknown[]): Promise<QueryResult<R>> {
  return new Promise((resolve, reject) => {
    statement.all(params, (err: Error | null, rows: R[]) => {
      if (err === null) resolve({ rows });
      else reject(err);
    });
  });
}

function runStatement<R>(statement: sqlite3.Statement, params: unknown[]): Promise<QueryResult<R>> {
  return new Promise((resolve, reject) => {
    // `function` on purpose: sqlite3 passes lastID and changes as `this`.
    statement.run(params, function (this: sqlite3.RunResult, err: Error | null) {
      if (err === null) {
        resolve({
          rows: [],
          numAffectedRows: BigInt(this.changes),
          insertId: BigInt(this.lastID),
        });
      } else reject(err);
    });
  });
}

class ConnectionMutex {
  #locked: Promise<void> | undefined;
  #release: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#locked !== undefined) await this.#locked;
    this.#locked = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  unlock(): void {
    const release = this.#release;
    this.#locked = undefined;
    this.#release = undefined;
    release?.();
  }
}
