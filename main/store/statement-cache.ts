/**
 * A bounded, least-recently-used cache of prepared statements, keyed by SQL text.
 *
 * Preparing a statement costs a parse and, in the async `sqlite3` package, two extra trips
 * through its thread pool (prepare, then finalize) on top of the one that runs it; a run
 * transition is six statements, so that overhead dominated it. Kysely compiles the same
 * query shape to the same SQL, so a small cache catches nearly every statement.
 *
 * A statement is finalized when it is evicted, dropped after a failure, or when the cache
 * is closed — but never while a caller is still using it: a finalized statement cannot
 * run, and SQLite refuses to close a connection that still has unfinalized ones.
 */
export type StatementCacheOptions<S> = {
  /** Most statements kept; the least recently used beyond this are finalized. */
  capacity: number;
  prepare: (sql: string) => Promise<S>;
  finalize: (statement: S) => Promise<void>;
};

type Entry<S> = {
  sql: string;
  statement: Promise<S>;
  /** Callers currently inside `use` with this statement. */
  users: number;
  /** Out of the cache: finalized as soon as it has no users. */
  dropped: boolean;
  finalizing: boolean;
  /** Settles once the statement is finalized (or was never prepared). */
  finalized: Promise<unknown>;
  markFinalized: () => void;
};

export class StatementCache<S> {
  readonly #options: StatementCacheOptions<S>;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry<S>>();
  /** Entries out of the cache whose statement is not finalized yet. */
  readonly #dropped = new Set<Entry<S>>();
  #closed = false;

  constructor(options: StatementCacheOptions<S>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(
        `statement cache capacity must be a positive integer, got ${options.capacity}`,
      );
    }
    this.#options = options;
  }

  /** Statements currently cached. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Runs `fn` with the prepared statement for `sql`, preparing it on first use. If `fn` (or
   * the preparation) fails, the statement is dropped, so the next caller gets a fresh one
   * rather than one the error may have left mid-step.
   */
  async use<T>(sql: string, fn: (statement: S) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('statement cache used after close');
    const entry = this.#acquire(sql);
    entry.users++;
    try {
      return await fn(await entry.statement);
    } catch (e) {
      this.#drop(entry);
      throw e;
    } finally {
      entry.users--;
      this.#finalizeIfUnused(entry);
    }
  }

  /** Finalizes every statement, waiting for those in use; the cache is unusable after. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of [...this.#entries.values()]) this.#drop(entry);
    await Promise.all([...this.#dropped].map((e) => e.finalized));
  }

  #acquire(sql: string): Entry<S> {
    const cached = this.#entries.get(sql);
    if (cached !== undefined) {
      this.#entries.delete(sql);
      this.#entries.set(sql, cached);
      return cached;
    }
    const finalized = Promise.withResolvers();
    const entry: Entry<S> = {
      sql,
      statement: this.#options.prepare(sql),
      users: 0,
      dropped: false,
      finalizing: false,
      finalized: finalized.promise,
      markFinalized: () => {
        finalized.resolve(undefined);
      },
    };
    // `use` awaits it too; this keeps a failed preparation from staying cached.
    entry.statement.catch(() => {
      this.#drop(entry);
    });
    this.#entries.set(sql, entry);
    for (const oldest of this.#entries.values()) {
      if (this.#entries.size <= this.#options.capacity) break;
      this.#drop(oldest);
    }
    return entry;
  }

  #drop(entry: Entry<S>): void {
    if (this.#entries.get(entry.sql) === entry) this.#entries.delete(entry.sql);
    if (entry.dropped) return;
    entry.dropped = true;
    this.#dropped.add(entry);
    this.#finalizeIfUnused(entry);
  }

  #finalizeIfUnused(entry: Entry<S>): void {
    if (!entry.dropped || entry.users > 0 || entry.finalizing) return;
    entry.finalizing = true;
    void entry.statement
      .then(
        (statement) => this.#options.finalize(statement),
        () => undefined, // never prepared: nothing to finalize
      )
      .catch(() => undefined) // nothing left to retry: the connection reports it on close
      .finally(() => {
        this.#dropped.delete(entry);
        entry.markFinalized();
      });
  }
}
