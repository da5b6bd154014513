import {
  MAX_CATCH_UP_WINDOW_MS,
  MAX_FOLLOW_UP_MS,
  MIN_FOLLOW_UP_MS,
  type FollowUpReply,
  type FollowUpRequest,
} from '../../contracts/schedules.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { CheckpointStore } from '../runs/checkpoint-store.ts';
import type { RunService } from '../runs/run-service.ts';
import type { FireEffects } from './fire-effects.ts';
import { readSchedule, type ScheduleRecord } from './schedule-rows.ts';
import type { ScheduleService } from './schedule-service.ts';
import { waitForMessageIn } from './message-wait.ts';

export type FollowUpsDeps = {
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  checkpoints: CheckpointStore;
  schedules: ScheduleService;
  effects: FireEffects;
  /** The agent's reason is shown to a person: redacted like everything it writes. */
  redactText: (text: string) => string;
};

/**
 * Agent follow-ups (`ccos/schedule.resume`, docs/scheduler.md): a running worker asks to be
 * resumed later. In one transaction its state is checkpointed, an `at` schedule owned by
 * the run is created (any earlier follow-up of the run ends: a run waits for one), and the
 * run goes to `paused_schedule` with `waiting_for` naming the instant. With no time given,
 * the run waits for a `resume` schedule that targets it — refused when there is none, so
 * no run pauses with nothing to wake it.
 */
export class FollowUps {
  readonly #deps: FollowUpsDeps;

  constructor(deps: FollowUpsDeps) {
    this.#deps = deps;
  }

  /**
   * `keep`: checkpoints the run keeps (its pack's quota). The follow-up's checkpoint is not
   * counted against the segment's checkpoint quota: it ends the segment, so it cannot loop.
   */
  async request(
    runId: string,
    segment: number,
    request: FollowUpRequest,
    actor: string,
    keep: number,
  ): Promise<FollowUpReply> {
    const changed: ScheduleRecord[] = [];
    const reply = await this.#deps.chain.transact(async (tx) => {
      const run = await this.#deps.runs.getIn(tx, runId);
      if (run.state !== 'running')
        throw new AppError('SEGMENT_ENDED', `the run is ${run.state}, not running`);
      const now = this.#deps.clock.now().getTime();
      const resumeAt =
        request.at !== undefined
          ? Date.parse(request.at)
          : request.after_ms !== undefined
            ? now + request.after_ms
            : null;
      if (
        resumeAt !== null &&
        (resumeAt - now < MIN_FOLLOW_UP_MS || resumeAt - now > MAX_FOLLOW_UP_MS)
      ) {
        throw new AppError(
          'INVALID_INPUT',
          `a follow-up must be between ${MIN_FOLLOW_UP_MS / 1000} s and ${MAX_FOLLOW_UP_MS / 86_400_000} days from now`,
          {
            fields: [
              { path: request.at === undefined ? 'after_ms' : 'at', message: 'out of range' },
            ],
          },
        );
      }
      if (
        resumeAt !== null &&
        run.budget.deadline !== undefined &&
        resumeAt >= Date.parse(run.budget.deadline)
      ) {
        throw new AppError(
          'INVALID_INPUT',
          `the run's deadline ${run.budget.deadline} is before ${new Date(resumeAt).toISOString()}; it could not resume`,
          {
            fields: [
              { path: request.at === undefined ? 'after_ms' : 'at', message: 'after the deadline' },
            ],
          },
        );
      }
      const earlier = await tx.db
        .selectFrom('schedules')
        .select('id')
        .where('owner_run_id', '=', runId)
        .where('state', 'in', ['active', 'paused'])
        .execute();
      for (const { id } of earlier) {
        const schedule = await readSchedule(tx.db, id);
        await this.#deps.effects.endIn(
          tx,
          schedule,
          'superseded: the run asked for a new follow-up',
          {
            actor,
            correlation_id: null,
          },
        );
        changed.push({ ...schedule, state: 'ended', next_due_at: null });
      }
      await this.#deps.checkpoints.saveIn(tx, {
        run_id: run.id,
        session_id: run.session_id,
        segment,
        state: request.state,
        actor,
        keep,
      });
      const why = request.reason === undefined ? '' : `: ${this.#deps.redactText(request.reason)}`;
      // --- waiting for a message (issue 23) ---
      if (request.until_message === true) {
        await waitForMessageIn(tx, this.#deps.runs, run, actor, why);
        return { schedule_id: null, resume_at: null };
      }
      if (resumeAt === null) {
        const waker = await tx.db
          .selectFrom('schedules')
          .select(['id', 'next_due_at'])
          .where('target_run_id', '=', runId)
          .where('owner_run_id', 'is', null)
          .where('state', '=', 'active')
          .orderBy('next_due_at')
          .executeTakeFirst();
        // Thrown inside the transaction: the checkpoint and the ended follow-ups roll back too.
        if (waker === undefined) {
          throw new AppError(
            'INVALID_INPUT',
            'no active schedule resumes this run: give "at" or "after_ms", or ask a person for a resume schedule',
            { fields: [{ path: 'at', message: 'required when no schedule targets the run' }] },
          );
        }
        await this.#deps.runs.transitionIn(tx, run.id, 'paused_schedule', {
          actor,
          reason: `waits for schedule ${waker.id}${why}`.slice(0, 600),
          waiting_for: `schedule:${waker.id}`,
        });
        return { schedule_id: null, resume_at: waker.next_due_at };
      }
      const at = new Date(resumeAt).toISOString();
      const created = await this.#deps.schedules.createIn(
        tx,
        {
          trigger: { kind: 'at', at },
          target: { kind: 'resume', run_id: run.id },
          overlap: 'skip',
          // A follow-up the host slept through still wakes the run when it is back.
          catch_up: 'latest',
          catch_up_window_ms: MAX_CATCH_UP_WINDOW_MS,
          jitter_ms: 0,
          enabled: true,
          note: `follow-up of run ${run.id}`,
        },
        { actor },
        { owner_run_id: run.id },
      );
      changed.push(created);
      await this.#deps.runs.transitionIn(tx, run.id, 'paused_schedule', {
        actor,
        reason: `resumes at ${at}${why}`.slice(0, 600),
        waiting_for: at,
      });
      return { schedule_id: created.id, resume_at: at };
    });
    for (const schedule of changed) this.#deps.schedules.committed(schedule);
    return reply;
  }
}
