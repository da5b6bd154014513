import { TERMINAL_STATES, runStateSchema, type Run } from '../../contracts/runs.ts';
import type {
  FireOutcome,
  FireSource,
  RunTemplate,
  ScheduleFire,
} from '../../contracts/schedules.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { isAppError } from '../errors.ts';
import { isBefore } from '../instant.ts';
import { resolveBudget, type PolicyPacks } from '../policy/policy-packs.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SessionService } from '../runs/session-service.ts';
import { isTerminal } from '../runs/transitions.ts';
import { fromFireRow, type ScheduleRecord } from './schedule-rows.ts';

/** The actor of everything the scheduler does on its own. */
export const SCHEDULER_ACTOR = 'scheduler';

const DAY_MS = 24 * 60 * 60 * 1000;

export type FireEffectsDeps = {
  runs: RunService;
  sessions: SessionService;
  meter: BudgetMeter;
  policies: PolicyPacks;
  clock: Clock;
};

/** One fire to claim: which instant, when it was due, and who asked. */
export type FireClaim = {
  source: FireSource;
  instant: number;
  due: number;
  /**
   * When the pass that decides this fire looked at the clock: every row of one pass carries
   * the same `claimed_at`, the time its catch-up decisions were made against.
   */
  at: number;
  /** The person's request id for a manual fire; null for the timer. */
  correlation_id: string | null;
  actor: string;
  /** Extra facts for the chain entry (a clock jump seen in this pass). */
  note?: Record<string, unknown>;
};

type Decision = { outcome: FireOutcome; reason: string | null; run: Run | null };

/**
 * The effect of one fire, inside the caller's transaction (docs/scheduler.md): claim the
 * fire row — an insert that only one transaction can win, on any number of hosts — then
 * decide and apply the effect (start a run, resume one, buffer, skip, refuse) and append
 * the `schedule.fired` entry. The row, the effect and the entry commit together or not at
 * all, so a fire happens exactly once. Every refusal is a recorded outcome with its reason,
 * and nothing here throws for an expected refusal: a throw would roll back the claim.
 */
export class FireEffects {
  readonly #deps: FireEffectsDeps;

  constructor(deps: FireEffectsDeps) {
    this.#deps = deps;
  }

  /** Claims and applies one fire; undefined when another transaction claimed it first. */
  async fireIn(
    tx: ChainTx,
    schedule: ScheduleRecord,
    claim: FireClaim,
  ): Promise<ScheduleFire | undefined> {
    const claimed = await tx.db
      .insertInto('schedule_fires')
      .values({
        schedule_id: schedule.id,
        source: claim.source,
        instant: new Date(claim.instant).toISOString(),
        due_at: new Date(claim.due).toISOString(),
        claimed_at: new Date(claim.at).toISOString(),
        // Overwritten below in this transaction; nobody can see the row before it commits.
        outcome: 'refused',
        reason: null,
        run_id: null,
        settled_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('instant')
      .executeTakeFirst();
    if (claimed === undefined) return undefined;
    const decision = await this.#decide(tx, schedule, claim);
    return this.#settle(tx, schedule, claim, decision, false);
  }

  /** Records one instant that will not fire (catch-up policy), as a row and a `schedule.missed` entry. */
  async missIn(
    tx: ChainTx,
    schedule: ScheduleRecord,
    claim: FireClaim,
    reason: string,
  ): Promise<ScheduleFire | undefined> {
    const now = new Date(claim.at).toISOString();
    const row = {
      schedule_id: schedule.id,
      source: claim.source,
      instant: new Date(claim.instant).toISOString(),
      due_at: new Date(claim.due).toISOString(),
      claimed_at: now,
      outcome: 'missed' as const,
      reason,
      run_id: null,
      settled_at: now,
    };
    const claimed = await tx.db
      .insertInto('schedule_fires')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .returning('instant')
      .executeTakeFirst();
    if (claimed === undefined) return undefined;
    const targetRun = schedule.target.kind === 'resume' ? schedule.target.run_id : null;
    await tx.append({
      event_type: 'schedule.missed',
      actor: claim.actor,
      correlation_id: claim.correlation_id,
      run_id: targetRun,
      data: {
        schedule_id: schedule.id,
        instant: row.instant,
        due_at: row.due_at,
        late_ms: claim.at - claim.due,
        reason,
        ...claim.note,
      },
    });
    return fromFireRow(row);
  }

  /**
   * Tries the schedule's buffered fire again now that what blocked it may have ended. It
   * stays buffered while the blocker is still there; otherwise it settles (started, resumed,
   * refused by a cap, or skipped because the target ended).
   */
  async deliverBufferedIn(
    tx: ChainTx,
    schedule: ScheduleRecord,
  ): Promise<ScheduleFire | undefined> {
    const row = await tx.db
      .selectFrom('schedule_fires')
      .selectAll()
      .where('schedule_id', '=', schedule.id)
      .where('outcome', '=', 'buffered')
      .orderBy('claimed_at')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const claim: FireClaim = {
      source: row.source === 'manual' ? 'manual' : 'schedule',
      instant: Date.parse(row.instant),
      due: Date.parse(row.due_at),
      at: this.#deps.clock.now().getTime(),
      correlation_id: null,
      actor: SCHEDULER_ACTOR,
    };
    const decision = await this.#decide(tx, schedule, claim, { delivering: true });
    if (decision.outcome === 'buffered') return undefined;
    return this.#settle(tx, schedule, claim, decision, true);
  }

  /** Settles a buffered fire as skipped (the schedule is being deleted), with its entry. */
  async dropBufferedIn(
    tx: ChainTx,
    schedule: ScheduleRecord,
    reason: string,
    ctx: { actor: string; correlation_id: string | null },
  ): Promise<void> {
    const rows = await tx.db
      .selectFrom('schedule_fires')
      .selectAll()
      .where('schedule_id', '=', schedule.id)
      .where('outcome', '=', 'buffered')
      .execute();
    for (const row of rows) {
      const claim: FireClaim = {
        source: row.source === 'manual' ? 'manual' : 'schedule',
        instant: Date.parse(row.instant),
        due: Date.parse(row.due_at),
        at: this.#deps.clock.now().getTime(),
        ...ctx,
      };
      await this.#settle(tx, schedule, claim, skip(reason), true);
    }
  }

  /** Ends a schedule for good (its last instant passed, its run ended), with its chain entry. */
  async endIn(
    tx: ChainTx,
    schedule: ScheduleRecord,
    reason: string,
    ctx: { actor: string; correlation_id: string | null },
  ): Promise<void> {
    const now = this.#deps.clock.now().toISOString();
    await tx.db
      .updateTable('schedules')
      .set({
        state: 'ended',
        state_reason: reason,
        next_fire_at: null,
        next_due_at: null,
        updated_at: now,
      })
      .where('id', '=', schedule.id)
      .execute();
    await tx.append({
      event_type: 'schedule.updated',
      actor: ctx.actor,
      correlation_id: ctx.correlation_id,
      run_id: schedule.owner_run_id,
      data: { schedule_id: schedule.id, state: 'ended', reason },
    });
  }

  async #settle(
    tx: ChainTx,
    schedule: ScheduleRecord,
    claim: FireClaim,
    decision: Decision,
    fromBuffer: boolean,
  ): Promise<ScheduleFire> {
    // A buffered fire settles later than it was claimed; any other at its pass's time.
    const nowMs = fromBuffer ? this.#deps.clock.now().getTime() : claim.at;
    const instant = new Date(claim.instant).toISOString();
    const settled = decision.outcome === 'buffered' ? null : new Date(nowMs).toISOString();
    const updated = await tx.db
      .updateTable('schedule_fires')
      .set({
        outcome: decision.outcome,
        reason: decision.reason,
        run_id: decision.run?.id ?? null,
        settled_at: settled,
      })
      .where('schedule_id', '=', schedule.id)
      .where('source', '=', claim.source)
      .where('instant', '=', instant)
      .returningAll()
      .executeTakeFirstOrThrow();
    const targetRun = schedule.target.kind === 'resume' ? schedule.target.run_id : null;
    await tx.append({
      event_type: 'schedule.fired',
      actor: claim.actor,
      correlation_id: claim.correlation_id,
      // With the run at hand its envelope goes along, so the chain need not read it back.
      ...(decision.run === null
        ? {}
        : {
            session_id: decision.run.session_id,
            policy_pack_version: decision.run.policy_pack_version ?? undefined,
          }),
      run_id: decision.run?.id ?? targetRun,
      data: {
        schedule_id: schedule.id,
        source: claim.source,
        instant,
        due_at: new Date(claim.due).toISOString(),
        late_ms: nowMs - claim.due,
        outcome: decision.outcome,
        reason: decision.reason,
        ...(fromBuffer ? { from_buffer: true } : {}),
        ...claim.note,
      },
    });
    return fromFireRow(updated);
  }

  async #decide(
    tx: ChainTx,
    schedule: ScheduleRecord,
    claim: FireClaim,
    options: { delivering?: boolean } = {},
  ): Promise<Decision> {
    return schedule.target.kind === 'start'
      ? this.#decideStart(tx, schedule, schedule.target.template, options)
      : this.#decideResume(tx, schedule, schedule.target.run_id, claim, options);
  }

  async #decideStart(
    tx: ChainTx,
    schedule: ScheduleRecord,
    template: RunTemplate,
    options: { delivering?: boolean },
  ): Promise<Decision> {
    const { active, recent } = await this.#startedRuns(tx, schedule.id);
    const busy = active[0];
    if (busy !== undefined && schedule.overlap !== 'allow') {
      const still = `run ${busy.id} of this schedule is still ${busy.state}`;
      if (schedule.overlap === 'skip') return skip(`overlap_skip: ${still}`);
      if (options.delivering === true) return buffer(`overlap_buffer: ${still}`);
      if (await this.#hasBuffered(tx, schedule.id))
        return skip(`buffer_full: one fire already waits for it; ${still}`);
      return buffer(`overlap_buffer: waits until run ${busy.id} of this schedule ends`);
    }
    const caps = schedule.caps;
    if (active.length >= caps.max_concurrent) {
      return refuse(
        `cap_concurrent: ${active.length} runs of this schedule have not ended (max_concurrent ${caps.max_concurrent})`,
      );
    }
    if (recent.length >= caps.runs_per_day) {
      return refuse(
        `cap_runs_per_day: ${recent.length} runs started in the last 24 h (runs_per_day ${caps.runs_per_day})`,
      );
    }
    // Tokens the runs started in the last 24 h may still spend, counted at their full budget
    // while they run: the new run gets at most what is left, so the cap holds even if every
    // run spends everything.
    const reserved = recent.reduce((sum, r) => {
      const used = (JSON.parse(r.usage) as { tokens: number }).tokens;
      const budget = (JSON.parse(r.budget) as { max_tokens: number }).max_tokens;
      return sum + (isTerminal(runStateSchema.parse(r.state)) ? used : Math.max(used, budget));
    }, 0);
    const left = caps.tokens_per_day - reserved;
    if (left < 1) {
      return refuse(
        `cap_tokens_per_day: runs started in the last 24 h hold ${reserved} of ${caps.tokens_per_day} tokens`,
      );
    }
    let pack;
    try {
      pack = this.#deps.policies.get(template.policy_pack ?? 'default');
    } catch (e) {
      if (isAppError(e, 'INVALID_INPUT')) return refuse(`policy_pack: ${e.message}`);
      throw e;
    }
    let sessionId: string | undefined;
    if (template.session === 'shared') {
      if (schedule.session_id !== null) {
        const session = await this.#deps.sessions.getIn(tx, schedule.session_id);
        if (session.state !== 'active')
          return refuse(`session_inactive: session ${session.id} is ${session.state}`);
        if (session.active_run_id !== null)
          return skip(`session_busy: session ${session.id} still has run ${session.active_run_id}`);
        sessionId = session.id;
      } else {
        const session = await this.#deps.sessions.createIn(tx, 'api', { actor: SCHEDULER_ACTOR });
        await tx.db
          .updateTable('schedules')
          .set({ session_id: session.id })
          .where('id', '=', schedule.id)
          .execute();
        schedule.session_id = session.id;
        sessionId = session.id;
      }
    }
    const budget = resolveBudget(template.budget, pack);
    const run = await this.#deps.runs.createIn(
      tx,
      {
        goal: template.goal,
        budget: { ...budget, max_tokens: Math.min(budget.max_tokens, left) },
        policy_pack: pack.id,
        ...(template.completion === undefined ? {} : { completion: template.completion }),
        ...(template.subgoals === undefined ? {} : { subgoals: template.subgoals }),
        ...(sessionId === undefined ? {} : { session_id: sessionId }),
      },
      { actor: SCHEDULER_ACTOR, origin: 'api' },
    );
    return { outcome: 'started', reason: null, run };
  }

  async #decideResume(
    tx: ChainTx,
    schedule: ScheduleRecord,
    runId: string,
    claim: FireClaim,
    options: { delivering?: boolean },
  ): Promise<Decision> {
    const run = await this.#deps.runs.getIn(tx, runId).catch((e: unknown) => {
      if (isAppError(e, 'NOT_FOUND')) return undefined;
      throw e;
    });
    if (run === undefined || isTerminal(run.state)) {
      const why =
        run === undefined ? `run ${runId} no longer exists` : `run ${runId} is ${run.state}`;
      await this.endIn(tx, schedule, `target ended: ${why}`, {
        actor: SCHEDULER_ACTOR,
        correlation_id: null,
      });
      return skip(`run_ended: ${why}; the schedule ends`);
    }
    if (run.state !== 'paused_schedule') {
      const busy = `run ${run.id} is ${run.state}, not waiting for a schedule`;
      if (schedule.overlap === 'skip') return skip(`run_busy: ${busy}`);
      if (options.delivering === true) return buffer(`run_busy: ${busy}`);
      if (await this.#hasBuffered(tx, schedule.id))
        return skip(`buffer_full: one fire already waits for it; ${busy}`);
      return buffer(`run_busy: waits until it pauses for a schedule; ${busy}`);
    }
    const over = await this.#deps.meter.checkIn(tx, run, { steps: 1, tokens: 1, activeMs: 0 });
    if (over !== undefined) {
      return skip(
        `budget_exhausted: the run's ${over.kind} budget has nothing left (${over.used} of ${over.limit})`,
        run,
      );
    }
    const resumed = await this.#deps.runs.transitionIn(tx, run.id, 'pending', {
      actor: claim.actor,
      correlation_id: claim.correlation_id,
      reason: `schedule ${schedule.id} fired (${new Date(claim.instant).toISOString()})`,
      trigger: 'schedule_fire',
    });
    return { outcome: 'resumed', reason: null, run: resumed };
  }

  /**
   * The runs this schedule started that have not ended (oldest first), and those started in
   * the last 24 h: one query for the overlap check and every cap.
   */
  async #startedRuns(
    tx: ChainTx,
    scheduleId: string,
  ): Promise<{
    active: { id: string; state: string }[];
    recent: { state: string; budget: string; usage: string }[];
  }> {
    const since = new Date(this.#deps.clock.now().getTime() - DAY_MS).toISOString();
    const rows = await tx.db
      .selectFrom('schedule_fires')
      .innerJoin('runs', 'runs.id', 'schedule_fires.run_id')
      .select(['runs.id', 'runs.state', 'runs.budget', 'runs.usage', 'schedule_fires.settled_at'])
      .where('schedule_fires.schedule_id', '=', scheduleId)
      .where('schedule_fires.outcome', '=', 'started')
      .where((eb) =>
        eb.or([
          eb('runs.state', 'not in', TERMINAL_STATES),
          eb('schedule_fires.settled_at', '>=', since),
        ]),
      )
      .orderBy('runs.created_at')
      .execute();
    return {
      active: rows.filter((r) => !isTerminal(runStateSchema.parse(r.state))),
      recent: rows.filter((r) => r.settled_at !== null && !isBefore(r.settled_at, since)),
    };
  }

  async #hasBuffered(tx: ChainTx, scheduleId: string): Promise<boolean> {
    const row = await tx.db
      .selectFrom('schedule_fires')
      .select('instant')
      .where('schedule_id', '=', scheduleId)
      .where('outcome', '=', 'buffered')
      .executeTakeFirst();
    return row !== undefined;
  }
}

const skip = (reason: string, run: Run | null = null): Decision => ({
  outcome: 'skipped',
  reason,
  run,
});
const refuse = (reason: string): Decision => ({ outcome: 'refused', reason, run: null });
const buffer = (reason: string): Decision => ({ outcome: 'buffered', reason, run: null });
