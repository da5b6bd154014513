import {
  DatabaseSync,
  type SQLInputValue,
  type SQLOutputValue,
  type StatementSync,
} from 'node:sqlite';
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
import { PreparedStatements } from './prepared-statements.ts';

/**
 * A kysely dialect over Node's built-in `node:sqlite` (synchronous, in the calling thread).
 * One connection, handed out exclusively: SQLite has one writer anyway, and exclusivity
 * keeps a transaction's statements from interleaving with other callers'.
 *
 * Synchronous on purpose (docs/decisions.md, "The store runs SQLite in the host's thread"):
 * the async `sqlite3` package made every statement a job on libuv's thread pool and back,
 * and those hand-offs, not SQLite, were most of a durable step's time. A statement here
 * costs microseconds; what blocks the event loop is a commit's fsync, as in LangGraph's
 * SQLite saver, and a busy wait, which only another process holding the file can cause
 * (the data dir's lock keeps other hosts out).
 */
export type SqliteDialectConfig = {
  filename: string;
  /** Statements run once when the connection opens (pragmas). */
  onOpen?: readonly string[];
  /** Prepared statements kept per connection (default `STATEMENT_CACHE_SIZE`). */
  statementCacheSize?: number;
  /**
   * Counts the statements run: what a hot path costs in statements is a figure the
   * benchmarks report, independent of the machine.
   */
  counter?: StatementCounter;
};

export type StatementCounter = { statements: number };

export function createSqliteDialect(config: SqliteDialectConfig): Dialect {
  return {
    createAdapter: () => new TransactionalDdlSqliteAdapter(),
    createDriver: () => new SqliteDriver(config),
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

class SqliteDriver implements Driver {
  readonly #config: SqliteDialectConfig;
  #connection: SqliteConnection | undefined;
  #mutex = new ConnectionMutex();

  constructor(config: SqliteDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    this.#connection = new SqliteConnection(
      new DatabaseSync(this.#config.filename),
      this.#config.statementCacheSize ?? STATEMENT_CACHE_SIZE,
      this.#config.counter ?? { statements: 0 },
    );
    for (const statement of this.#config.onOpen ?? []) {
      await this.#connection.executeQuery(CompiledQuery.raw(statement));
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    if (this.#connection === undefined) throw new Error('sqlite driver used after destroy');
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

  destroy(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
    return Promise.resolve();
  }
}

/** Statements kept prepared per connection; a run transition uses six, the host a few dozen. */
export const STATEMENT_CACHE_SIZE = 100;

type Prepared = { statement: StatementSync; rowlessWrite: boolean };

class SqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #statements: PreparedStatements<Prepared>;
  readonly #counter: StatementCounter;

  constructor(db: DatabaseSync, statementCacheSize: number, counter: StatementCounter) {
    this.#db = db;
    this.#counter = counter;
    this.#statements = new PreparedStatements(statementCacheSize, (sql) => {
      const statement = db.prepare(sql);
      // A statement without result columns (a write without RETURNING, DDL, BEGIN) runs
      // with `run`, which reports the changed-row count and last rowid; one with columns,
      // with `all`. kysely's better-sqlite3 dialect asks `Statement.reader` the same way.
      return { statement, rowlessWrite: statement.columns().length === 0 };
    });
  }

  // Async only because kysely's interface is; the work is done before it returns.
  // eslint-disable-next-line @typescript-eslint/require-await
  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    this.#counter.statements += 1;
    return this.#execute<R>(compiledQuery);
  }

  // `node:sqlite` resets a statement when `run` or `all` returns or throws, so a cached
  // statement never holds a read snapshot open between queries, and one that failed runs
  // again with other parameters.
  #execute<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const { statement, rowlessWrite } = this.#statements.get(compiledQuery.sql);
    const params = compiledQuery.parameters.map(toSqlValue);
    if (rowlessWrite) {
      const result = statement.run(...params);
      return {
        rows: [],
        numAffectedRows: BigInt(result.changes),
        insertId: BigInt(result.lastInsertRowid),
      };
    }
    return { rows: statement.all(...params).map(toRow) as R[] };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by the sqlite dialect');
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/**
 * A parameter as SQLite should store it. `node:sqlite` binds every JS number as a REAL, so
 * an integer would reach a column without affinity, a JSON function or a concatenation as
 * `5.0`; a safe integer is bound as an INTEGER instead. Booleans become 0 and 1.
 */
export function toSqlValue(value: unknown): SQLInputValue {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (value === undefined) return null;
  return value as SQLInputValue;
}

/**
 * A row as the store's code reads it: a plain object (`node:sqlite` returns ones without a
 * prototype) whose BLOBs are Buffers (it returns bare Uint8Arrays, whose `toString` is not
 * Buffer's).
 */
function toRow(row: Record<string, SQLOutputValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in row) {
    const value = row[key];
    out[key] =
      value instanceof Uint8Array
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        : value;
  }
  return out;
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
