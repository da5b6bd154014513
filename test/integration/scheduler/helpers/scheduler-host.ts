import { pino } from 'pino';
import type { ChainEntry } from '../../../../contracts/chain.ts';
import type { PolicyPack } from '../../../../contracts/policy.ts';
import type {
  CreateScheduleInput,
  Schedule,
  ScheduleFire,
} from '../../../../contracts/schedules.ts';
import { createScheduleInputSchema } from '../../../../contracts/schedules.ts';
import { parseHostConfig } from '../../../../main/config.ts';
import { Host, type StartedHost } from '../../../../main/host.ts';
import { manualWakeTimer, type ManualWakeTimer } from '../../../support/manual-wake-timer.ts';
import {
  makeTempDir,
  manualClock,
  removeTempDir,
  type ManualClock,
} from '../../../support/test-store.ts';
import { testHostEnv } from '../../../support/test-host-env.ts';

export const ADMIN = { actor: 'admin' } as const;

/**
 * A real host (SQLite file, real migrations, the real composition root) without an LLM, so
 * runs a schedule starts need no worker and stay `pending`. Time is a manual clock and the
 * scheduler's timer fires only when the test says so: nothing here sleeps.
 */
export type SchedulerHost = {
  dataDir: string;
  clock: ManualClock;
  timer: ManualWakeTimer;
  started: StartedHost;
  /** Creates a schedule as an admin would (the input goes through the API's schema). */
  create: (input: CreateScheduleInput) => Promise<Schedule>;
  /** Every fire row of a schedule, oldest instant first. */
  fires: (scheduleId: string) => Promise<ScheduleFire[]>;
  /** Every chain entry of a type, in order. */
  entries: (type: ChainEntry['event_type']) => Promise<ChainEntry[]>;
  /**
   * Lets `ms` pass as a running host sees it: the clock moves to each armed wake-up in turn,
   * the timer fires on time, and the scheduler finishes its pass before time moves on.
   */
  advance: (ms: number) => Promise<void>;
  /** The wall clock jumps by `ms` at once (a suspended laptop), then the timer fires. */
  jump: (ms: number) => Promise<void>;
  /** Stops the host and starts a new one on the same data dir and clock (a restart). */
  restart: (downMs?: number) => Promise<void>;
  /** Stops the host; removes the data dir unless `keep`. */
  stop: (options?: { keep?: boolean }) => Promise<void>;
};

export async function startSchedulerHost(
  options: { startIso?: string; dataDir?: string; packs?: readonly PolicyPack[] } = {},
): Promise<SchedulerHost> {
  const dataDir = options.dataDir ?? (await makeTempDir('ccos-scheduler-'));
  const clock = manualClock(options.startIso ?? '2026-06-01T00:00:00.000Z');
  let timer = manualWakeTimer();
  const boot = async (): Promise<{ host: Host; started: StartedHost }> => {
    const host = new Host(
      parseHostConfig(
        {
          data_dir: dataDir,
          log_level: 'silent',
          gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        },
        testHostEnv(),
      ),
      {
        clock,
        schedulerTimer: timer,
        logger: pino({ level: 'silent' }),
        ...(options.packs === undefined ? {} : { policyPacks: options.packs }),
      },
    );
    return { host, started: await host.start() };
  };
  let current = await boot();
  const self: SchedulerHost = {
    dataDir,
    clock,
    get timer() {
      return timer;
    },
    get started() {
      return current.started;
    },
    create: (input) =>
      current.started.schedules.create(createScheduleInputSchema.parse(input), ADMIN),
    fires: async (scheduleId) => {
      const rows = await current.started.store.db
        .selectFrom('schedule_fires')
        .selectAll()
        .where('schedule_id', '=', scheduleId)
        .orderBy('instant')
        .execute();
      return rows as ScheduleFire[];
    },
    entries: async (type) => {
      const out: ChainEntry[] = [];
      let after = 0;
      for (;;) {
        const page = await current.started.chain.query({
          event_type: type,
          after_seq: after,
          limit: 1000,
        });
        out.push(...page.entries);
        if (page.next_after_seq === null) return out;
        after = page.next_after_seq;
      }
    },
    advance: async (ms) => {
      let left = ms;
      while (left > 0) {
        const step = Math.min(left, timer.armed ?? left);
        clock.advance(step);
        left -= step;
        if (timer.armed !== undefined && step >= timer.armed) timer.fire();
        await current.started.scheduler.idle();
      }
      // A wake-up armed for "now" (delay 0) is due as well.
      while (timer.armed === 0) {
        timer.fire();
        await current.started.scheduler.idle();
      }
    },
    jump: async (ms) => {
      clock.advance(ms);
      timer.fire();
      await current.started.scheduler.idle();
    },
    restart: async (downMs = 0) => {
      await current.host.stop();
      clock.advance(downMs);
      timer = manualWakeTimer();
      current = await boot();
    },
    stop: async (stopOptions = {}) => {
      await current.host.stop();
      if (stopOptions.keep !== true && options.dataDir === undefined) await removeTempDir(dataDir);
    },
  };
  return self;
}
