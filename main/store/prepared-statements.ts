/**
 * A bounded, least-recently-used cache of prepared statements, keyed by SQL text.
 *
 * Preparing costs SQLite a parse and a plan, and kysely compiles the same query shape to
 * the same SQL, so a small cache catches nearly every statement on the hot paths (a run
 * transition is six statements, the host a few dozen shapes). An evicted statement is only
 * dropped: `node:sqlite` finalizes it when it is collected, or when the database closes.
 */
export class PreparedStatements<S> {
  readonly #capacity: number;
  readonly #prepare: (sql: string) => S;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, S>();

  constructor(capacity: number, prepare: (sql: string) => S) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`statement cache capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#prepare = prepare;
  }

  /** Statements currently cached. */
  get size(): number {
    return this.#entries.size;
  }

  /** The prepared statement for `sql`, prepared on first use (a bad statement throws). */
  get(sql: string): S {
    const cached = this.#entries.get(sql);
    if (cached !== undefined) {
      this.#entries.delete(sql);
      this.#entries.set(sql, cached);
      return cached;
    }
    const prepared = this.#prepare(sql);
    this.#entries.set(sql, prepared);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return prepared;
  }

  clear(): void {
    this.#entries.clear();
  }
}
