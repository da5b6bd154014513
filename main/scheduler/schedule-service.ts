import {
  DEFAULT_SCHEDULE_CAPS,
  type ParsedCreateScheduleInput,
  type Schedule,
  type ScheduleDetail,
  type ScheduleFire,
  type ScheduleState,
  type ScheduleTarget,
  type ScheduleTrigger,
  type UpdateScheduleInput,
} from '../../contracts/schedules.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError, isAppError } from '../errors.ts';
import { isBefore, toUtcInstant } from '../instant.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { RunService } from '../runs/run-service.ts';
import { isTerminal } from '../runs/transitions.ts';
import type { Db } from '../store/schema.ts';
import type { FireEffects } from './fire-effects.ts';
import { firesAfter, nextFireAfter } from './next-fire.ts';
import {
  fromScheduleRow,
  publicSchedule,
  readSchedule,
  recentFires,
  toScheduleRow,
  type ScheduleRecord,
} from './schedule-rows.ts';
import type { Scheduler } from './scheduler.ts';
import { compileTrigger } from './trigger-instants.ts';

const NEXT_FIRES = 5;
const RECENT_FIRES = 20;

export type ScheduleServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  policies: PolicyPacks;
  effects: FireEffects;
  /** Told after each committed change, so its heap and timer follow. */
  scheduler: Pick<Scheduler, 'changed' | 'trigger'>;
  /** Goal texts of templates are redacted on write, like a run's goal. */
  redactText?: (text: string) => string;
};

/** Extra fields only the host sets: a follow-up's owner run. */
export type CreateScheduleOptions = { owner_run_id?: string };

/**
 * Schedules as a person manages them (`/v1/schedules`, `ccos schedules`): create, edit,
 * pause, resume, trigger, delete. Every change and its chain entry commit together; the
 * scheduler re-arms after the commit. Deleting keeps the row (as `deleted`) so its fires
 * and the runs they started stay explained.
 */
export class ScheduleService {
  readonly #deps: ScheduleServiceDeps;

  constructor(deps: ScheduleServiceDeps) {
    this.#deps = deps;
  }

  async create(input: ParsedCreateScheduleInput, ctx: ActorContext): Promise<Schedule> {
    const created = await this.#deps.chain.transact((tx) => this.createIn(tx, input, ctx));
    this.#notify(created);
    return publicSchedule(created);
  }

  /**
   * `create` in a caller's transaction (a follow-up commits with its run's pause). The
   * caller tells the scheduler after the commit with `committed`.
   */
  async createIn(
    tx: ChainTx,
    input: ParsedCreateScheduleInput,
    ctx: ActorContext,
    options: CreateScheduleOptions = {},
  ): Promise<ScheduleRecord> {
    const now = this.#deps.clock.now();
    const trigger = normalizeTrigger(input.trigger);
    const target = await this.#checkTarget(tx, input.target);
    const enabled = input.enabled;
    const record: ScheduleRecord = {
      id: newId('sch'),
      note: input.note ?? null,
      trigger,
      target,
      overlap: input.overlap,
      catch_up: input.catch_up,
      catch_up_window_ms: input.catch_up_window_ms,
      jitter_ms: input.jitter_ms,
      start_at: isoOrNull(input.start_at),
      end_at: isoOrNull(input.end_at),
      caps: { ...DEFAULT_SCHEDULE_CAPS, ...input.caps },
      state: enabled ? 'active' : 'paused',
      state_reason: enabled ? null : 'created paused',
      owner_run_id: options.owner_run_id ?? null,
      next_fire_at: null,
      next_due_at: null,
      created_by: ctx.actor,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      session_id: null,
    };
    compileTrigger(trigger, record);
    if (trigger.kind === 'at' && Date.parse(trigger.at) <= now.getTime()) {
      throw fieldError('trigger.at', `${trigger.at} is not in the future`);
    }
    const first = nextFireAfter(record, now.getTime());
    if (first === null) {
      throw fieldError(
        record.end_at === null ? 'trigger' : 'end_at',
        'the trigger names no instant to fire (before end_at)',
      );
    }
    record.next_fire_at = new Date(first.instant).toISOString();
    record.next_due_at = new Date(first.due).toISOString();
    await tx.db.insertInto('schedules').values(toScheduleRow(record)).execute();
    await tx.append({
      event_type: 'schedule.created',
      ...auditedBy(ctx),
      run_id: record.owner_run_id ?? (target.kind === 'resume' ? target.run_id : null),
      data: {
        schedule_id: record.id,
        trigger,
        target: target.kind === 'resume' ? target : { kind: 'start' },
        overlap: record.overlap,
        catch_up: record.catch_up,
        catch_up_window_ms: record.catch_up_window_ms,
        jitter_ms: record.jitter_ms,
        caps: record.caps,
        state: record.state,
        next_fire_at: record.next_fire_at,
        ...(record.owner_run_id === null ? {} : { owner_run_id: record.owner_run_id }),
      },
    });
    return record;
  }

  /** Tells the scheduler about a schedule created in a caller's transaction, after its commit. */
  committed(schedule: Pick<Schedule, 'id' | 'next_due_at' | 'state'>): void {
    this.#notify(schedule);
  }

  async list(query: { state?: ScheduleState; limit?: number } = {}): Promise<Schedule[]> {
    let q = this.#deps.db
      .selectFrom('schedules')
      .selectAll()
      .where('state', '!=', 'deleted')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 100, 1000));
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    return (await q.execute()).map((row) => publicSchedule(fromScheduleRow(row)));
  }

  async get(id: string): Promise<ScheduleDetail> {
    const schedule = await readSchedule(this.#deps.db, id);
    return {
      schedule: publicSchedule(schedule),
      next_fires: nextFires(schedule),
      recent_fires: await recentFires(this.#deps.db, id, RECENT_FIRES),
    };
  }

  async update(id: string, patch: UpdateScheduleInput, ctx: ActorContext): Promise<Schedule> {
    const after = await this.#deps.chain.transact(async (tx) => {
      const before = await readSchedule(tx.db, id);
      if (before.state === 'ended') throw ended(before);
      const now = this.#deps.clock.now();
      const next: ScheduleRecord = {
        ...before,
        ...(patch.trigger === undefined ? {} : { trigger: normalizeTrigger(patch.trigger) }),
        ...(patch.overlap === undefined ? {} : { overlap: patch.overlap }),
        ...(patch.catch_up === undefined ? {} : { catch_up: patch.catch_up }),
        ...(patch.catch_up_window_ms === undefined
          ? {}
          : { catch_up_window_ms: patch.catch_up_window_ms }),
        ...(patch.jitter_ms === undefined ? {} : { jitter_ms: patch.jitter_ms }),
        ...(patch.start_at === undefined ? {} : { start_at: isoOrNull(patch.start_at) }),
        ...(patch.end_at === undefined ? {} : { end_at: isoOrNull(patch.end_at) }),
        ...(patch.note === undefined ? {} : { note: patch.note }),
        ...(patch.caps === undefined ? {} : { caps: { ...before.caps, ...patch.caps } }),
        updated_at: now.toISOString(),
      };
      if (next.start_at !== null && next.end_at !== null && !isBefore(next.start_at, next.end_at))
        throw fieldError('end_at', 'start_at must be before end_at');
      compileTrigger(next.trigger, next);
      const timing =
        patch.trigger !== undefined ||
        patch.start_at !== undefined ||
        patch.end_at !== undefined ||
        patch.jitter_ms !== undefined;
      if (timing && next.state !== 'paused') {
        // A new timing counts from now: it does not reach back to instants already past.
        const from =
          patch.jitter_ms !== undefined &&
          patch.trigger === undefined &&
          patch.start_at === undefined &&
          before.next_fire_at !== null
            ? Date.parse(before.next_fire_at) - 1
            : now.getTime();
        const first = nextFireAfter(next, from);
        next.next_fire_at = first === null ? null : new Date(first.instant).toISOString();
        next.next_due_at = first === null ? null : new Date(first.due).toISOString();
      }
      await tx.db.updateTable('schedules').set(toScheduleRow(next)).where('id', '=', id).execute();
      await tx.append({
        event_type: 'schedule.updated',
        ...auditedBy(ctx),
        run_id: next.owner_run_id,
        data: {
          schedule_id: id,
          changed: Object.keys(patch).sort(),
          next_fire_at: next.next_fire_at,
        },
      });
      if (timing && next.state === 'active' && next.next_fire_at === null) {
        await this.#deps.effects.endIn(tx, next, 'done: its new timing names no instant', {
          ...auditedBy(ctx),
        });
        return readSchedule(tx.db, id);
      }
      return next;
    });
    this.#notify(after);
    return publicSchedule(after);
  }

  /** Stops firing until resumed; instants while paused are not fires (the chain shows the pause). */
  pause(id: string, ctx: ActorContext, reason?: string): Promise<Schedule> {
    return this.#setState(id, 'paused', ctx, reason ?? `paused by ${ctx.actor}`);
  }

  /** Fires again from the next instant after now. */
  resume(id: string, ctx: ActorContext): Promise<Schedule> {
    return this.#setState(id, 'active', ctx, null);
  }

  /** `POST /v1/schedules/{id}/trigger`: fire once now, under the schedule's policies. */
  trigger(id: string, ctx: ActorContext): Promise<ScheduleFire> {
    return this.#deps.scheduler.trigger(id, ctx);
  }

  async delete(id: string, ctx: ActorContext): Promise<{ schedule_id: string }> {
    await this.#deps.chain.transact(async (tx) => {
      const before = await readSchedule(tx.db, id);
      await this.#deps.effects.dropBufferedIn(
        tx,
        before,
        'schedule_deleted: the schedule was deleted',
        {
          ...auditedBy(ctx),
        },
      );
      const now = this.#deps.clock.now().toISOString();
      await tx.db
        .updateTable('schedules')
        .set({
          state: 'deleted',
          state_reason: `deleted by ${ctx.actor}`,
          next_fire_at: null,
          next_due_at: null,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      await tx.append({
        event_type: 'schedule.deleted',
        ...auditedBy(ctx),
        run_id: before.owner_run_id,
        data: { schedule_id: id },
      });
    });
    this.#deps.scheduler.changed(id, null, 'deleted');
    return { schedule_id: id };
  }

  async #setState(
    id: string,
    to: 'active' | 'paused',
    ctx: ActorContext,
    reason: string | null,
  ): Promise<Schedule> {
    const after = await this.#deps.chain.transact(async (tx) => {
      const before = await readSchedule(tx.db, id);
      if (before.state === 'ended') throw ended(before);
      if (before.state === to) return before;
      const now = this.#deps.clock.now();
      const first = to === 'active' ? nextFireAfter(before, now.getTime()) : undefined;
      const next: ScheduleRecord = {
        ...before,
        state: to,
        state_reason: reason,
        updated_at: now.toISOString(),
        ...(first === undefined
          ? {}
          : {
              next_fire_at: first === null ? null : new Date(first.instant).toISOString(),
              next_due_at: first === null ? null : new Date(first.due).toISOString(),
            }),
      };
      await tx.db.updateTable('schedules').set(toScheduleRow(next)).where('id', '=', id).execute();
      await tx.append({
        event_type: 'schedule.updated',
        ...auditedBy(ctx),
        run_id: next.owner_run_id,
        data: { schedule_id: id, state: to, reason, next_fire_at: next.next_fire_at },
      });
      if (first === null) {
        await this.#deps.effects.endIn(tx, next, 'done: its trigger names no later instant', {
          ...auditedBy(ctx),
        });
        return readSchedule(tx.db, id);
      }
      return next;
    });
    this.#notify(after);
    return publicSchedule(after);
  }

  async #checkTarget(tx: ChainTx, target: ScheduleTarget): Promise<ScheduleTarget> {
    if (target.kind === 'resume') {
      const run = await this.#deps.runs.getIn(tx, target.run_id).catch((e: unknown) => {
        if (isAppError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      if (run === undefined) throw fieldError('target.run_id', `no run ${target.run_id}`);
      if (isTerminal(run.state))
        throw fieldError('target.run_id', `run ${run.id} is ${run.state}; it cannot resume`);
      return target;
    }
    const { template } = target;
    try {
      this.#deps.policies.get(template.policy_pack ?? 'default');
    } catch (e) {
      if (isAppError(e, 'INVALID_INPUT'))
        throw fieldError('target.template.policy_pack', e.message);
      throw e;
    }
    const redact = this.#deps.redactText ?? ((text: string) => text);
    return {
      kind: 'start',
      template: {
        ...template,
        goal: redact(template.goal),
        ...(template.subgoals === undefined
          ? {}
          : { subgoals: template.subgoals.map((g) => ({ ...g, text: redact(g.text) })) }),
      },
    };
  }

  #notify(schedule: Pick<Schedule, 'id' | 'next_due_at' | 'state'>): void {
    this.#deps.scheduler.changed(schedule.id, schedule.next_due_at, schedule.state);
  }
}

/** The next instants the scheduler will fire, from its cursor. */
function nextFires(schedule: ScheduleRecord): ScheduleDetail['next_fires'] {
  if (
    schedule.state !== 'active' ||
    schedule.next_fire_at === null ||
    schedule.next_due_at === null
  )
    return [];
  const out = [{ instant: schedule.next_fire_at, due_at: schedule.next_due_at }];
  for (const fire of firesAfter(schedule, Date.parse(schedule.next_fire_at))) {
    if (out.length >= NEXT_FIRES) break;
    out.push({
      instant: new Date(fire.instant).toISOString(),
      due_at: new Date(fire.due).toISOString(),
    });
  }
  return out;
}

/** Instants are stored in UTC (`…Z`), so they compare as strings and read the same everywhere. */
function isoOrNull(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : toUtcInstant(value);
}

function normalizeTrigger(trigger: ScheduleTrigger): ScheduleTrigger {
  return trigger.kind === 'at' ? { kind: 'at', at: toUtcInstant(trigger.at) } : trigger;
}

function fieldError(path: string, message: string): AppError {
  return new AppError('INVALID_INPUT', `invalid schedule: ${path}: ${message}`, {
    fields: [{ path, message }],
  });
}

function ended(schedule: ScheduleRecord): AppError {
  return new AppError(
    'CONFLICT',
    `schedule ${schedule.id} has ended (${schedule.state_reason ?? 'no reason'}); create a new one`,
  );
}
