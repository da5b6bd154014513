import type { Logger } from 'pino';
import type { ChainEntry } from '../../contracts/chain.ts';
import { TERMINAL_STATES, isTerminalState } from '../../contracts/runs.ts';
import type { ScheduleFire } from '../../contracts/schedules.ts';
import type { ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError, isAppError } from '../errors.ts';
import type { Db } from '../store/schema.ts';
import { advanceIn, type AdvanceResult } from './advance-schedule.ts';
import { DueHeap } from './due-heap.ts';
import { SCHEDULER_ACTOR, type FireEffects } from './fire-effects.ts';
import { readSchedule } from './schedule-rows.ts';
import { WakeAlarm } from './wake-alarm.ts';
import type { WakeTimer } from './wake-timer.ts';

/**
 * Longest the one timer sleeps, even when nothing is due sooner: a wall-clock jump (a
 * suspended laptop, a clock set forward) shows within this long, since timers run on a
 * monotonic clock that does not see it.
 */
export const MAX_SLEEP_MS = 30_000;
/** A wake this far from the wall-clock time it was armed for is a clock jump, not lateness. */
export const CLOCK_JUMP_MS = 5_000;
/** Schedules handled in one transaction when many are due at once. */
const BATCH = 32;
/** A schedule whose pass failed (a host bug) is tried again after this long, not in a loop. */
const FAILURE_BACKOFF_MS = 60_000;

export type SchedulerDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  timer: WakeTimer;
  logger: Logger;
  effects: FireEffects;
};

/** What one pass did, per schedule (STYLE.md §8: batch work reports per-item outcomes). */
export type TickReport = {
  at: string;
  /** How far the wall clock was from where the timer was armed for, when that was a jump. */
  clock_jump_ms: number | null;
  fires: ScheduleFire[];
  failures: { schedule_id: string; message: string }[];
};

/**
 * The scheduler (ARCHITECTURE.md §9, docs/scheduler.md): one heap of every active schedule
 * by its next due time and one timer for the earliest, re-armed in O(log n) on every
 * change. A pass takes what is due by the injected clock, and each schedule's instants are
 * claimed, applied and recorded in transactions (`advanceIn`), so a crash at any point
 * leaves each instant either done once or still due. Reactions to runs (a buffered fire
 * whose blocker ended, a follow-up whose run ended) happen after the run's transition
 * commits, and again at start-up for whatever a crash interrupted.
 */
export class Scheduler implements Disposable {
  readonly #deps: SchedulerDeps;
  readonly #heap = new DueHeap();
  /** Schedules a pass has out of the heap, and whether `changed` was called for one meanwhile. */
  readonly #inFlight = new Map<string, boolean>();
  readonly #alarm: WakeAlarm;
  #queue: Promise<unknown> = Promise.resolve();
  #queuedPass: Promise<TickReport> | undefined;
  #subscription: Disposable | undefined;
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#alarm = new WakeAlarm({
      clock: deps.clock,
      timer: deps.timer,
      maxSleepMs: MAX_SLEEP_MS,
      wake: () => {
        this.#onTimer();
      },
    });
  }

  /** Schedules waiting in the heap. */
  get size(): number {
    return this.#heap.size;
  }

  /** The earliest due time in the heap (ms), for tests and the bench. */
  get nextDue(): number | undefined {
    return this.#heap.peek()?.due;
  }

  /**
   * Loads every active schedule, settles what a crash left (buffered fires whose blocker
   * ended, schedules whose run ended), then runs the catch-up pass before returning.
   */
  async start(): Promise<TickReport> {
    const rows = await this.#deps.db
      .selectFrom('schedules')
      .select(['id', 'next_due_at'])
      .where('state', '=', 'active')
      .where('next_due_at', 'is not', null)
      .execute();
    for (const row of rows)
      if (row.next_due_at !== null) this.#heap.set(row.id, Date.parse(row.next_due_at));
    this.#subscription = this.#deps.chain.subscribe((entries) => {
      this.#onEntries(entries);
    });
    await this.#enqueue(() => this.#reconcile());
    return this.runDue();
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#alarm.dispose();
    await this.#subscription?.dispose();
    await this.#queue.catch(() => undefined);
  }

  /** Resolves once every queued pass and reaction has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const queue = this.#queue;
      await queue.catch(() => undefined);
      if (queue === this.#queue) return;
    }
  }

  /**
   * A schedule changed (created, edited, paused, ended): its place in the heap follows, and
   * the timer is re-armed. Called after the change committed.
   */
  changed(scheduleId: string, nextDueAt: string | null, state: string): void {
    if (this.#inFlight.has(scheduleId)) this.#inFlight.set(scheduleId, true);
    if (state === 'active' && nextDueAt !== null) this.#heap.set(scheduleId, Date.parse(nextDueAt));
    else this.#heap.delete(scheduleId);
    this.#arm();
  }

  /** Fires everything due by the clock now; the timer calls this, tests may too. */
  runDue(): Promise<TickReport> {
    return this.#schedulePass(null);
  }

  /** `POST /v1/schedules/{id}/trigger`: one manual fire now, through the same claim. */
  trigger(scheduleId: string, ctx: ActorContext): Promise<ScheduleFire> {
    return this.#enqueue(() =>
      this.#deps.chain.transact(async (tx) => {
        const schedule = await readSchedule(tx.db, scheduleId);
        if (schedule.state === 'ended') {
          throw new AppError(
            'CONFLICT',
            `schedule ${scheduleId} has ended (${schedule.state_reason ?? 'no reason'}); create a new one`,
          );
        }
        const now = this.#deps.clock.now().getTime();
        const fire = await this.#deps.effects.fireIn(tx, schedule, {
          source: 'manual',
          instant: now,
          due: now,
          at: now,
          actor: ctx.actor,
          correlation_id: ctx.correlation_id ?? null,
        });
        if (fire === undefined) {
          throw new AppError(
            'CONFLICT',
            `schedule ${scheduleId} was already triggered at this instant`,
          );
        }
        return fire;
      }),
    );
  }

  /** A method, not the field: the field changes across the awaits of a pass. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #schedulePass(jumpMs: number | null): Promise<TickReport> {
    if (this.#queuedPass !== undefined && jumpMs === null) return this.#queuedPass;
    const pass = this.#enqueue(() => {
      if (this.#queuedPass === pass) this.#queuedPass = undefined;
      return this.#pass(jumpMs);
    });
    this.#queuedPass = pass;
    return pass;
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #onTimer(): void {
    const now = this.#deps.clock.now().getTime();
    const wakeAt = this.#alarm.wakeAt;
    const drift = wakeAt === undefined ? 0 : now - wakeAt;
    const jump = Math.abs(drift) > CLOCK_JUMP_MS ? drift : null;
    if (jump !== null) {
      this.#deps.logger.warn(
        { clock_jump_ms: jump },
        jump > 0
          ? 'the wall clock jumped forward (or the machine slept): fires due meanwhile are caught up per policy'
          : 'the wall clock went back: no instant fires twice, later ones wait for their time',
      );
    }
    void this.#schedulePass(jump).catch((err: unknown) => {
      this.#deps.logger.error({ err }, 'scheduler pass failed');
    });
  }

  async #pass(jumpMs: number | null): Promise<TickReport> {
    const nowMs = this.#deps.clock.now().getTime();
    const report: TickReport = {
      at: new Date(nowMs).toISOString(),
      clock_jump_ms: jumpMs,
      fires: [],
      failures: [],
    };
    if (this.#stopped) return report;
    const note = jumpMs === null ? {} : { clock_jump_ms: jumpMs };
    try {
      for (;;) {
        const batch: string[] = [];
        for (
          let top = this.#heap.peek();
          top !== undefined && top.due <= nowMs && batch.length < BATCH;
          top = this.#heap.peek()
        ) {
          batch.push(top.id);
          this.#heap.delete(top.id);
          this.#inFlight.set(top.id, false);
        }
        if (batch.length === 0 || this.#isStopped()) break;
        for (const [id, result] of await this.#advanceBatch(batch, nowMs, note, report)) {
          report.fires.push(...result.fires);
          // Changed meanwhile: which of the two is newer is unknown here, so the earlier wins.
          // Waking early costs one empty look at the schedule (its pass returns its true next
          // due); keeping the later could fire it late.
          const current = this.#inFlight.get(id) === true ? this.#heap.dueOf(id) : undefined;
          this.#inFlight.delete(id);
          const next =
            current === undefined
              ? result.nextDue
              : result.nextDue === null
                ? current
                : Math.min(current, result.nextDue);
          if (next !== null) this.#heap.set(id, next);
        }
      }
    } finally {
      this.#arm();
    }
    return report;
  }

  /** One transaction for the batch; if it fails, each schedule alone, so one bad one cannot stall the rest. */
  async #advanceBatch(
    ids: readonly string[],
    nowMs: number,
    note: Record<string, unknown>,
    report: TickReport,
  ): Promise<[string, AdvanceResult][]> {
    try {
      // A fire never reads the chain, so the batch's entries go in as one statement at its end.
      return await this.#deps.chain.transact(
        async (tx) => {
          const results: [string, AdvanceResult][] = [];
          for (const id of ids)
            results.push([id, await advanceIn(tx, this.#deps.effects, id, nowMs, note)]);
          return results;
        },
        { deferAppends: true },
      );
    } catch (err) {
      this.#deps.logger.warn({ err }, 'a batch of fires failed; each schedule tries alone');
      const results: [string, AdvanceResult][] = [];
      for (const id of ids) {
        try {
          results.push([
            id,
            await this.#deps.chain.transact((tx) =>
              advanceIn(tx, this.#deps.effects, id, nowMs, note),
            ),
          ]);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.#deps.logger.error(
            { err, schedule_id: id },
            'a schedule could not fire; trying again later',
          );
          report.failures.push({ schedule_id: id, message });
          results.push([id, { fires: [], nextDue: nowMs + FAILURE_BACKOFF_MS }]);
        }
      }
      return results;
    }
  }

  #arm(): void {
    const top = this.#stopped ? undefined : this.#heap.peek();
    if (top === undefined) this.#alarm.cancel();
    else this.#alarm.setFor(top.due);
  }

  #onEntries(entries: readonly ChainEntry[]): void {
    for (const entry of entries) {
      if (entry.event_type !== 'run.transition' || entry.run_id === null) continue;
      const to = entry.data.to;
      const ended = isTerminalState(to);
      if (!ended && to !== 'paused_schedule') continue;
      const runId = entry.run_id;
      void this.#enqueue(() => this.#onRun(runId, ended)).catch((err: unknown) => {
        this.#deps.logger.error({ err, run_id: runId }, 'scheduler could not react to a run');
      });
    }
  }

  /**
   * A run ended or paused for a schedule: buffered fires it held up are delivered, and
   * schedules that belong to it or target it end with it.
   */
  async #onRun(runId: string, ended: boolean): Promise<void> {
    if (this.#stopped) return;
    const related = await this.#deps.db
      .selectFrom('schedules')
      .select('id')
      .where((eb) => eb.or([eb('target_run_id', '=', runId), eb('owner_run_id', '=', runId)]))
      .where('state', 'in', ['active', 'paused'])
      .execute();
    const starters = ended
      ? await this.#deps.db
          .selectFrom('schedule_fires')
          .select('schedule_id')
          .where('run_id', '=', runId)
          .where('outcome', '=', 'started')
          .execute()
      : [];
    for (const { id } of related) await this.#settleFor(id, ended ? `run ${runId} ended` : null);
    for (const { schedule_id } of starters) await this.#settleFor(schedule_id, null);
  }

  /** Delivers the schedule's buffered fire if it can go now; ends it when `endReason` is set. */
  async #settleFor(scheduleId: string, endReason: string | null): Promise<void> {
    const after = await this.#deps.chain.transact(async (tx) => {
      let schedule = await readSchedule(tx.db, scheduleId).catch((e: unknown) => {
        if (isAppError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      // Deleted meanwhile: its buffered fire was settled by the deletion.
      if (schedule === undefined) return undefined;
      await this.#deps.effects.deliverBufferedIn(tx, schedule);
      schedule = await readSchedule(tx.db, scheduleId);
      if (endReason !== null && (schedule.state === 'active' || schedule.state === 'paused')) {
        await this.#deps.effects.endIn(tx, schedule, `its run ended: ${endReason}`, {
          actor: SCHEDULER_ACTOR,
          correlation_id: null,
        });
        schedule = await readSchedule(tx.db, scheduleId);
      }
      return schedule;
    });
    if (after !== undefined) this.changed(after.id, after.next_due_at, after.state);
  }

  /** Start-up: what a crash between a run's transition and the reaction to it left undone. */
  async #reconcile(): Promise<void> {
    const buffered = await this.#deps.db
      .selectFrom('schedule_fires')
      .select('schedule_id')
      .distinct()
      .where('outcome', '=', 'buffered')
      .execute();
    for (const { schedule_id } of buffered) await this.#settleFor(schedule_id, null);
    const orphaned = await this.#deps.db
      .selectFrom('schedules')
      .innerJoin('runs', (join) =>
        join.on((eb) =>
          eb.or([
            eb('runs.id', '=', eb.ref('schedules.owner_run_id')),
            eb('runs.id', '=', eb.ref('schedules.target_run_id')),
          ]),
        ),
      )
      .select(['schedules.id', 'runs.id as run_id'])
      .where('schedules.state', 'in', ['active', 'paused'])
      .where('runs.state', 'in', TERMINAL_STATES)
      .execute();
    for (const row of orphaned) await this.#settleFor(row.id, `run ${row.run_id} ended`);
  }
}
