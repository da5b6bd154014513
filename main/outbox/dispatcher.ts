import type { Logger } from 'pino';
import type { OutboxSettings } from '../../contracts/outbox.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { Redactor } from '../policy/redactor.ts';
import { WakeAlarm } from '../scheduler/wake-alarm.ts';
import type { WakeTimer } from '../scheduler/wake-timer.ts';
import type { Db } from '../store/schema.ts';
import {
  attemptEndedEntries,
  attemptRefusedEntries,
  attemptStartedEntry,
  type AttemptOutcome,
} from './attempt-entries.ts';
import { retryDelayMs, type JitterSource } from './backoff.ts';
import { isTransient, type DeliveryResult } from './delivery-result.ts';
import type { DeliveryTransports, OutboundDelivery } from './delivery-transport.ts';
import { endDeadHostLeasesIn } from './dead-host-leases.ts';
import { contentOfRow, type OutboxRow } from './outbox-rows.ts';
import { claimDueIn, expireExhaustedIn, nextWakeIn } from './outbox-store.ts';

/** Rows claimed per pass: bounds the requests in flight from one host at once. */
const DEFAULT_BATCH = 16;
/** Timers longer than this are re-armed: setTimeout overflows past 2^31 ms, and a clock may jump. */
const MAX_TIMER_MS = 3_600_000;

export type DispatcherDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  timer: WakeTimer;
  jitter: JitterSource;
  transports: DeliveryTransports;
  redactor: Redactor;
  logger: Logger;
  settings: Pick<OutboxSettings, 'base_delay_ms' | 'max_delay_ms'> & {
    /** How long a claim holds a row: longer than a transport's timeout, or two hosts send at once. */
    lease_ms: number;
    batch?: number;
  };
  /** This host's name in `lease_owner`; fresh per start so a restarted host never trusts an old lease. */
  owner?: string;
  /**
   * This host holds the data dir's single-host lock: a lease it did not take belongs to a host
   * that died, so its first pass ends such leases instead of waiting them out.
   */
  soleWriter?: boolean;
};

type Claimed = { row: OutboxRow; sent: { url: string; method: string } };

/**
 * Delivers the outbox. One timer, armed for the earliest due row or expiring lease (from the
 * table, so it survives restarts and sees other hosts' rows); each pass claims due rows with
 * a lease in the row, commits an `egress.attempt` per claim before sending, then settles each
 * attempt — delivered, retried after backoff, or dead — with its `outbound.attempt` and
 * `egress.outcome`, only if its lease is still its own.
 */
export class OutboxDispatcher implements Disposable {
  readonly #deps: DispatcherDeps;
  readonly #owner: string;
  readonly #abort = new AbortController();
  readonly #alarm: WakeAlarm;
  #pass: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #deadLeasesEnded = false;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
    this.#owner = deps.owner ?? newId('host');
    this.#alarm = new WakeAlarm({
      clock: deps.clock,
      timer: deps.timer,
      maxSleepMs: MAX_TIMER_MS,
      wake: () => {
        this.poke();
      },
    });
  }

  /** Looks at the table now (start-up: rows left by a previous run of the host). */
  start(): void {
    this.poke();
  }

  /** Something was queued or changed: look again now rather than at the armed time. */
  poke(): void {
    if (this.#stopped) return;
    if (this.#pass !== undefined) {
      this.#again = true;
      return;
    }
    this.#pass = this.#passes().finally(() => {
      this.#pass = undefined;
    });
  }

  /** Runs passes until nothing is due now, then re-arms the timer (tests await it). */
  async runDue(): Promise<void> {
    this.poke();
    while (this.#pass !== undefined) await this.#pass;
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#alarm.dispose();
    this.#abort.abort();
    await this.#pass;
  }

  async #passes(): Promise<void> {
    try {
      for (;;) {
        this.#again = false;
        const claimed = await this.#onePass();
        if (this.#isStopped()) return;
        // Done when a pass found nothing and nobody poked while it ran.
        if (claimed === 0 && !this.#wasPoked()) break;
      }
      await this.#arm();
    } catch (err) {
      if (!this.#isStopped()) this.#deps.logger.error({ err }, 'outbox pass failed');
    }
  }

  /** Read through methods: both flags change while a pass awaits, which narrowing cannot see. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #wasPoked(): boolean {
    return this.#again;
  }

  async #arm(): Promise<void> {
    if (this.#stopped) return;
    this.#alarm.cancel();
    const next = await nextWakeIn(this.#deps.db);
    if (next === undefined || this.#isStopped()) return;
    this.#alarm.setFor(Date.parse(next));
  }

  /** Claims and delivers one batch; the number of rows it claimed. */
  async #onePass(): Promise<number> {
    const { chain, clock, settings } = this.#deps;
    const claimed = await chain.transact(async (tx) => {
      const now = clock.now();
      if (this.#deps.soleWriter === true && !this.#deadLeasesEnded) {
        const ended = await endDeadHostLeasesIn(tx, this.#owner, now);
        if (ended > 0)
          this.#deps.logger.warn({ ended }, 'outbox rows left in flight by a stopped host');
      }
      await expireExhaustedIn(tx, now);
      const rows = await claimDueIn(tx, {
        owner: this.#owner,
        now,
        leaseMs: settings.lease_ms,
        limit: settings.batch ?? DEFAULT_BATCH,
      });
      const sendable: Claimed[] = [];
      for (const row of rows) {
        const sent = await this.#startIn(tx, row, now);
        if (sent !== undefined) sendable.push({ row, sent });
      }
      return { count: rows.length, sendable };
    });
    this.#deadLeasesEnded = true;
    await Promise.all(claimed.sendable.map((c) => this.#deliver(c)));
    return claimed.count;
  }

  /** Records the attempt's start; a refused destination dead-letters the row instead. */
  async #startIn(
    tx: ChainTx,
    row: OutboxRow,
    now: Date,
  ): Promise<{ url: string; method: string } | undefined> {
    const transport = this.#deps.transports(row.connector_id);
    const target =
      transport?.target(deliveryOf(row)) ??
      ({
        ok: false,
        rule_id: 'egress.destination',
        message: `connector ${row.connector_id} has no outbound transport`,
      } as const);
    await tx.db
      .insertInto('outbox_attempts')
      .values({
        outbox_id: row.id,
        attempt: row.attempts,
        lease_owner: this.#owner,
        started_at: now.toISOString(),
        ended_at: target.ok ? null : now.toISOString(),
        status: null,
        latency_ms: null,
        outcome: target.ok ? 'in_flight' : 'dead',
        category: target.ok ? null : 'invalid',
        message: target.ok ? null : target.message,
      })
      .execute();
    if (target.ok) {
      await tx.append(attemptStartedEntry(row, target.url, target.method));
      return { url: target.url, method: target.method };
    }
    await tx.db
      .updateTable('outbox')
      .set({
        state: 'dead',
        lease_owner: null,
        lease_expires_at: null,
        last_error_category: 'invalid',
        last_error: target.message,
        updated_at: now.toISOString(),
      })
      .where('id', '=', row.id)
      .execute();
    for (const entry of attemptRefusedEntries(row, target)) await tx.append(entry);
    return undefined;
  }

  async #deliver({ row, sent }: Claimed): Promise<void> {
    const transport = this.#deps.transports(row.connector_id);
    const started = performance.now();
    const result: DeliveryResult =
      transport === undefined
        ? { ok: false, category: 'invalid', status: null, message: 'no transport' }
        : await transport.deliver(deliveryOf(row), this.#abort.signal);
    const latency = Math.round(performance.now() - started);
    // A host stopping mid-request leaves the row leased: the next claim after expiry retries it.
    if (this.#isStopped()) return;
    try {
      await this.#settle(row, sent, result, latency);
    } catch (err) {
      if (!this.#isStopped())
        this.#deps.logger.error({ err, outbox_id: row.id }, 'outbox settle failed');
    }
  }

  async #settle(
    row: OutboxRow,
    sent: { url: string; method: string },
    result: DeliveryResult,
    latencyMs: number,
  ): Promise<void> {
    const { chain, clock, settings, jitter, redactor } = this.#deps;
    await chain.transact(async (tx) => {
      const now = clock.now();
      const outcome: AttemptOutcome = result.ok
        ? 'delivered'
        : !isTransient(result.category) || row.attempts >= row.max_attempts
          ? 'dead'
          : 'retry';
      const message = result.ok ? null : redactor.redactString(result.message);
      const next =
        outcome === 'retry' && !result.ok
          ? new Date(
              now.getTime() + retryDelayMs(row.attempts, settings, jitter, result.retry_after_ms),
            )
          : now;
      // Fenced by the lease: if it expired and another claim took the row, that claim decides.
      const fenced = await tx.db
        .updateTable('outbox')
        .set({
          state: outcome === 'retry' ? 'queued' : outcome,
          next_attempt_at: next.toISOString(),
          lease_owner: null,
          lease_expires_at: null,
          last_error_category: result.ok ? null : result.category,
          last_error: message,
          updated_at: now.toISOString(),
        })
        .where('id', '=', row.id)
        .where('lease_owner', '=', this.#owner)
        .where('attempts', '=', row.attempts)
        .executeTakeFirst();
      await tx.db
        .updateTable('outbox_attempts')
        .set({
          ended_at: now.toISOString(),
          status: result.status,
          latency_ms: latencyMs,
          outcome,
          category: result.ok ? null : result.category,
          message,
        })
        .where('outbox_id', '=', row.id)
        .where('attempt', '=', row.attempts)
        .execute();
      for (const entry of attemptEndedEntries(row, sent, result, outcome, latencyMs))
        await tx.append(entry);
      if (fenced.numUpdatedRows === 0n)
        this.#deps.logger.warn(
          { outbox_id: row.id },
          'an outbox lease expired before its attempt ended',
        );
    });
  }
}

function deliveryOf(row: OutboxRow): OutboundDelivery {
  return {
    id: row.id,
    idempotency_key: row.idempotency_key,
    connector_id: row.connector_id,
    channel_id: row.channel_id,
    content: contentOfRow(row),
    attempt: row.attempts,
    run_id: row.run_id,
    session_id: row.session_id,
  };
}
