import { CompiledQuery, type Transaction } from 'kysely';
import {
  GENESIS_HASH,
  chainEntrySchema,
  type ChainEntry,
  type ChainEventType,
  type ChainQuery,
  type ChainVerifyResult,
} from '../../contracts/chain.ts';
import { newId, type Clock } from '../clock.ts';
import { toUtcInstant } from '../instant.ts';
import { BugError } from '../errors.ts';
import type { Disposable } from '../disposable.ts';
import type { ChainTable, Database, Db } from '../store/schema.ts';
import { hashEntry } from './chain-hash.ts';
import { ChainReadGuard } from './chain-read-guard.ts';
import { checkHash, checkSequence, type BrokenLink, type ExpectedLink } from './check-link.ts';
import { parseStoredJson } from './stored-json.ts';

/** What a caller supplies; the chain fills in seq, ids, time and the hash link. */
export type ChainAppendInput = {
  event_type: ChainEventType;
  actor: string;
  data?: Record<string, unknown>;
  session_id?: string | null;
  run_id?: string | null;
  step_id?: string | null;
  correlation_id?: string | null;
  capability_id?: string | null;
  capability_version?: string | null;
  rule_id?: string | null;
  policy_pack_version?: string;
};

/**
 * A transaction in which chain entries can be appended alongside other writes. The store
 * has a single connection that the transaction holds: inside it, query only through
 * `tx.db`; a query on the outer `db` would wait for the transaction forever.
 */
export type ChainTx = {
  db: Transaction<Database>;
  append: (input: ChainAppendInput) => Promise<ChainEntry>;
  /**
   * Runs `fn` once the transaction has committed, never after a rollback: a cache of what
   * the table holds may learn a row only when the row is really there.
   */
  afterCommit: (fn: () => void) => void;
};

export type ChainListener = (entries: readonly ChainEntry[]) => void;

export type CausalChainDeps = {
  db: Db;
  clock: Clock;
  /** Stamped on entries that do not name another policy pack version and belong to no run. */
  policyPackVersion: string;
  /**
   * The version of a policy pack by id, for entries of a run: they carry the version of the
   * run's pack, not the default's. Undefined (a pack no longer configured) falls back.
   */
  packVersion?: (packId: string) => string | undefined;
  /**
   * Applied to every entry's `data` before it is hashed and written: redaction on write,
   * so nothing secret ever reaches the chain (ARCHITECTURE.md §10).
   */
  redact?: (data: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Applied to the caller-chosen correlation id before it is written (a caller may send
   * anything there, a secret included); defaults to `redact` of it as a field.
   */
  redactText?: (text: string) => string;
};

const VERIFY_PAGE = 1000;
/** Deferred entries written per statement: 16 columns each, well under SQLite's 32,766 variables. */
const DEFERRED_INSERT_ROWS = 500;

export type TransactOptions = {
  /**
   * Writes the transaction's entries in one statement as it ends instead of one per append
   * (a batch of schedule fires appends four per fire). Only for work that never reads the
   * chain inside the transaction: `tx.db` refuses such a query (ChainReadGuard).
   */
  deferAppends?: boolean;
};
/** Runs whose session and pack are remembered (both are immutable for a run). */
const RUN_ENVELOPE_CACHE = 4096;

type ChainHead = { seq: number; hash: string };

/** What every entry of a run carries from the run itself. */
type RunEnvelope = {
  session_id: string;
  policy_pack: string;
  /** The version the run was created under; null for runs older than migration 0100. */
  policy_pack_version: string | null;
};

/**
 * The append-only, hash-linked audit log (ARCHITECTURE.md §6). Entries are appended only
 * inside `transact`, together with the state they describe, so an entry exists exactly
 * when its state change was committed. Subscribers hear of entries after the commit.
 */
export class CausalChain {
  readonly #deps: CausalChainDeps;
  readonly #listeners = new Set<ChainListener>();
  /**
   * The last committed entry, so an append need not read it back: set after each commit,
   * dropped after any failure (the next transaction reads it from the table). Sound only
   * because this chain is the table's one writer — `transact` runs one at a time, and
   * `openStore` holds the data dir's single-host lock. A stray writer behind its back
   * would make the next append collide on `seq` (the primary key) and fail, never fork.
   */
  #head: ChainHead | undefined;
  /** Settles when the previous `transact` has settled, head included. */
  #previous: Promise<unknown> = Promise.resolve();
  /** Committed transactions so far: read caches compare it to know they may be stale. */
  #commits = 0;
  /** By run id, most recently used last. */
  readonly #runEnvelopes = new Map<string, RunEnvelope>();

  constructor(deps: CausalChainDeps) {
    this.#deps = deps;
  }

  /** Runs `fn` in one IMMEDIATE transaction; appended entries are published after commit. */
  transact<T>(fn: (tx: ChainTx) => Promise<T>, options: TransactOptions = {}): Promise<T> {
    // One at a time: the store has one connection anyway, and a transaction must not start
    // before the previous one has recorded (or dropped) the head it left.
    const next = this.#previous.then(() => this.#transactNow(fn, options));
    this.#previous = next.catch(() => undefined);
    return next;
  }

  async #transactNow<T>(fn: (tx: ChainTx) => Promise<T>, options: TransactOptions): Promise<T> {
    const appended: ChainEntry[] = [];
    const committed: (() => void)[] = [];
    const defer = options.deferAppends === true;
    let head = this.#head;
    this.#head = undefined;
    const result = await this.#deps.db.transaction().execute(async (trx) => {
      const append = async (input: ChainAppendInput): Promise<ChainEntry> => {
        // The contract: a decision names the rule that made it, or an audit cannot say why.
        if (input.event_type === 'policy.decision' && (input.rule_id ?? '') === '')
          throw new BugError('a policy.decision entry must name its rule_id');
        head ??= (await trx
          .selectFrom('chain')
          .select(['seq', 'hash'])
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst()) ?? { seq: 0, hash: GENESIS_HASH };
        const run = await this.#runEnvelopeIn(trx, input);
        const entry = this.#build(input, head, run);
        appended.push(entry);
        if (!defer) await trx.executeQuery(insertEntry(entry));
        head = { seq: entry.seq, hash: entry.hash };
        return entry;
      };
      const db = defer ? trx.withPlugin(new ChainReadGuard()) : trx;
      const out = await fn({ db, append, afterCommit: (cb) => void committed.push(cb) });
      for (let i = 0; defer && i < appended.length; i += DEFERRED_INSERT_ROWS) {
        const rows = appended.slice(i, i + DEFERRED_INSERT_ROWS).map(toRow);
        await trx.insertInto('chain').values(rows).execute();
      }
      return out;
    });
    // Only reached after the commit: on any failure the head stays unknown.
    this.#head = head;
    this.#commits += 1;
    for (const cb of committed) cb();
    if (appended.length > 0) this.#publish(appended);
    return result;
  }

  /** Appends one entry in its own transaction (for events that change no other state). */
  append(input: ChainAppendInput): Promise<ChainEntry> {
    return this.transact((tx) => tx.append(input));
  }

  /**
   * Counts committed transactions. Every write to runs, goals, approvals and the chain goes
   * through `transact`, so a read taken while this number stayed the same is still current.
   */
  get commits(): number {
    return this.#commits;
  }

  subscribe(listener: ChainListener): Disposable {
    this.#listeners.add(listener);
    return { dispose: () => void this.#listeners.delete(listener) };
  }

  /** Walks the whole chain and names the first broken link. */
  async verify(): Promise<ChainVerifyResult> {
    let expected = { seq: 0, hash: GENESIS_HASH };
    for (;;) {
      const rows = await this.#deps.db
        .selectFrom('chain')
        .selectAll()
        .where('seq', '>', expected.seq)
        .orderBy('seq', 'asc')
        .limit(VERIFY_PAGE)
        .execute();
      for (const row of rows) {
        const broken = checkLink(row, expected);
        if (broken !== undefined) return { ok: false, entries: expected.seq, ...broken };
        expected = { seq: row.seq, hash: row.hash };
      }
      if (rows.length < VERIFY_PAGE)
        return { ok: true, entries: expected.seq, head: expected.hash };
    }
  }

  /** The newest entry's seq (0 for an empty chain): where a live view starts following. */
  async headSeq(): Promise<number> {
    const row = await this.#deps.db
      .selectFrom('chain')
      .select('seq')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.seq ?? 0;
  }

  /** Entries by run, type and time range, in seq order, paged by `after_seq`. */
  async query(q: ChainQuery): Promise<{ entries: ChainEntry[]; next_after_seq: number | null }> {
    const limit = q.limit ?? 100;
    let query = this.#deps.db
      .selectFrom('chain')
      .selectAll()
      .orderBy('seq', 'asc')
      .limit(limit + 1);
    if (q.run_id !== undefined) query = query.where('run_id', '=', q.run_id);
    if (q.event_type !== undefined) query = query.where('event_type', '=', q.event_type);
    // Timestamps are stored in UTC `toISOString()` form, where text order is time order; the
    // bounds are brought to the same form, or an offset would compare as text (issue 17 #12).
    if (q.since !== undefined) query = query.where('timestamp', '>=', toUtcInstant(q.since));
    if (q.until !== undefined) query = query.where('timestamp', '<', toUtcInstant(q.until));
    if (q.after_seq !== undefined) query = query.where('seq', '>', q.after_seq);
    const rows = await query.execute();
    const page = rows.slice(0, limit).map(fromRow);
    const last = page.at(-1);
    return { entries: page, next_after_seq: rows.length > limit && last ? last.seq : null };
  }

  /**
   * The session and pack of the entry's run, read in the entry's transaction (a run created
   * in it is seen), when the caller left either out: the contract's envelope wants both on
   * every event of a run, and callers deep in a call chain do not always have the run.
   */
  async #runEnvelopeIn(
    trx: Transaction<Database>,
    input: ChainAppendInput,
  ): Promise<RunEnvelope | undefined> {
    const runId = input.run_id;
    if (runId === undefined || runId === null) return undefined;
    if (input.policy_pack_version !== undefined && input.session_id != null) return undefined;
    const cached = this.#runEnvelopes.get(runId);
    if (cached !== undefined) {
      this.#runEnvelopes.delete(runId);
      this.#runEnvelopes.set(runId, cached);
      return cached;
    }
    const row = await trx
      .selectFrom('runs')
      .select(['session_id', 'policy_pack', 'policy_pack_version'])
      .where('id', '=', runId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    this.#runEnvelopes.set(runId, row);
    if (this.#runEnvelopes.size > RUN_ENVELOPE_CACHE) {
      const oldest = this.#runEnvelopes.keys().next();
      if (oldest.done !== true) this.#runEnvelopes.delete(oldest.value);
    }
    return row;
  }

  #build(
    input: ChainAppendInput,
    head: { seq: number; hash: string },
    run: RunEnvelope | undefined,
  ): ChainEntry {
    const eventId = newId('evt');
    const unhashed = {
      seq: head.seq + 1,
      event_id: eventId,
      event_type: input.event_type,
      timestamp: this.#deps.clock.now().toISOString(),
      session_id: input.session_id ?? run?.session_id ?? null,
      run_id: input.run_id ?? null,
      // The contract wants a step id on every event; a synthetic one marks "no step".
      step_id: input.step_id ?? `synthetic:${eventId}`,
      policy_pack_version:
        input.policy_pack_version ??
        run?.policy_pack_version ??
        (run === undefined ? undefined : this.#deps.packVersion?.(run.policy_pack)) ??
        this.#deps.policyPackVersion,
      capability_id: input.capability_id ?? null,
      capability_version: input.capability_version ?? null,
      rule_id: input.rule_id ?? null,
      correlation_id:
        input.correlation_id === undefined || input.correlation_id === null
          ? null
          : (this.#deps.redactText?.(input.correlation_id) ?? input.correlation_id),
      actor: input.actor,
      data: this.#deps.redact?.(input.data ?? {}) ?? input.data ?? {},
      prev_hash: head.hash,
    };
    return { ...unhashed, hash: hashEntry(unhashed) };
  }

  #publish(entries: readonly ChainEntry[]): void {
    for (const listener of this.#listeners) {
      // A failing listener must not undo or hide a committed write.
      try {
        listener(entries);
      } catch {
        /* listeners own their errors */
      }
    }
  }
}

function checkLink(row: ChainTable, expected: ExpectedLink): BrokenLink | undefined {
  const out = checkSequence(row, expected);
  if (out !== undefined) return out;
  let entry: ChainEntry;
  try {
    entry = fromRow(row);
  } catch {
    return {
      broken_at_seq: row.seq,
      reason: 'malformed_entry',
      message: `entry ${row.seq} is not a well-formed chain entry`,
    };
  }
  return checkHash(entry);
}

function toRow(entry: ChainEntry): ChainTable {
  return { ...entry, data: JSON.stringify(entry.data) };
}

/** Every column of a chain row, in the order `INSERT_ENTRY` names them; the type keeps it whole. */
const CHAIN_COLUMNS = Object.keys({
  seq: true,
  event_id: true,
  event_type: true,
  timestamp: true,
  session_id: true,
  run_id: true,
  step_id: true,
  policy_pack_version: true,
  capability_id: true,
  capability_version: true,
  rule_id: true,
  correlation_id: true,
  actor: true,
  data: true,
  prev_hash: true,
  hash: true,
} satisfies Record<keyof ChainTable, true>) as (keyof ChainTable)[];

/**
 * One entry's insert, written once: every transaction appends at least one entry, and building
 * and compiling the same insert with the query builder each time was a measurable share of a
 * tool step (docs/benchmarks.md, store). Same statement text every time, so the dialect's
 * statement cache prepares it once.
 */
const INSERT_ENTRY = `insert into "chain" (${CHAIN_COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${CHAIN_COLUMNS.map(() => '?').join(', ')})`;

function insertEntry(entry: ChainEntry): CompiledQuery {
  const row = toRow(entry);
  return CompiledQuery.raw(
    INSERT_ENTRY,
    CHAIN_COLUMNS.map((c) => row[c]),
  );
}

function fromRow(row: ChainTable): ChainEntry {
  return chainEntrySchema.parse({ ...row, data: parseStoredJson(row.data) });
}
