import type { Logger } from 'pino';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { CheckpointStore } from '../runs/checkpoint-store.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SessionService } from '../runs/session-service.ts';
import { FireEffects } from '../scheduler/fire-effects.ts';
import { FollowUps } from '../scheduler/follow-ups.ts';
import { ScheduleService } from '../scheduler/schedule-service.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { WakeTimer } from '../scheduler/wake-timer.ts';
import type { Db } from '../store/schema.ts';

export type SchedulingParts = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  logger: Logger;
  runs: RunService;
  sessions: SessionService;
  meter: BudgetMeter;
  policies: PolicyPacks;
  checkpoints: CheckpointStore;
  /** The scheduler's one real timer (tests pass one they fire by hand). */
  timer: WakeTimer;
  redactText: (text: string) => string;
};

/** Schedules and what fires them: the scheduler is built here and started last by the host. */
export type Scheduling = {
  scheduler: Scheduler;
  schedules: ScheduleService;
  /** What `ccos/schedule.resume` calls: a worker asking to be resumed later. */
  followUps: FollowUps;
};

/** The scheduler, the schedules it fires and a worker's follow-ups, sharing one fire effect. */
export function buildScheduling(parts: SchedulingParts): Scheduling {
  const { db, chain, clock, runs, policies, redactText } = parts;
  const effects = new FireEffects({
    runs,
    sessions: parts.sessions,
    meter: parts.meter,
    policies,
    clock,
  });
  const scheduler = new Scheduler({
    db,
    chain,
    clock,
    timer: parts.timer,
    logger: parts.logger,
    effects,
  });
  const schedules = new ScheduleService({
    db,
    chain,
    clock,
    runs,
    policies,
    effects,
    scheduler,
    redactText,
  });
  const followUps = new FollowUps({
    chain,
    clock,
    runs,
    checkpoints: parts.checkpoints,
    schedules,
    effects,
    redactText,
  });
  return { scheduler, schedules, followUps };
}
