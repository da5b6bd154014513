import type { Logger } from 'pino';
import { isUnjailed } from '../../contracts/agent-isolation.ts';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { Run } from '../../contracts/runs.ts';
import { serveAgentChannel } from '../agent/channel/serve-agent-channel.ts';
import type { LlmProvider } from '../agent/llm/llm-provider.ts';
import type { SpawnedWorker, Spawner, WorkerExit } from '../agent/spawn/spawner.ts';
import type { TokenService } from '../auth/token-service.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { isAppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db } from '../store/schema.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import { segmentQuotasOf } from '../runs/segment-quotas.ts';
import type { HostControls } from '../runs/host-controls.ts';
import { DEFAULT_LLM_RETRY } from './llm-failure.ts';
import { RunSegment, type RunSegmentDeps } from './run-segment.ts';
import { WorkerLastError } from './worker-last-error.ts';
import { WorkerWatchdog } from './worker-watchdog.ts';
import type { RunService } from '../runs/run-service.ts';

export type SupervisorDeps = {
  db: Db;
  runs: RunService;
  chain: CausalChain;
  clock: Clock;
  logger: Logger;
  tokens: TokenService;
  meter: BudgetMeter;
  policies: PolicyPacks;
  spawner: Spawner;
  /** The LLM a run's worker talks to through the gateway; one per run (a replay keeps its place). */
  llmFor: (runId: string) => LlmProvider;
  segmentDeps: Omit<RunSegmentDeps, 'llm'>;
  /** The host-wide switch and caps (`ccos agents …`); they also set how many segments run at once. */
  controls: HostControls;
  /** Extra time past a segment's limit before a worker that has not exited is killed. */
  exitGraceMs: number;
};

type Active = { worker: SpawnedWorker; abort: AbortController; killReason: string | undefined };

export const SUPERVISOR_ACTOR = 'supervisor';

/** Attempts to commit a segment's end before the run is failed instead. */
const CLOSE_ATTEMPTS = 3;
const CLOSE_RETRY_MS = 50;

/** How long an agent-session token outlives its segment's kill deadline. */
export const AGENT_TOKEN_GRACE_MS = 60_000;

/** An agent-session token's lifetime: the segment's limit, the exit grace and a margin. */
export function agentTokenLifetimeS(segmentMaxMs: number, exitGraceMs: number): number {
  return Math.ceil((segmentMaxMs + exitGraceMs + AGENT_TOKEN_GRACE_MS) / 1000);
}

/** A segment that ended cleanly without a single step: no progress, so normally a fault. */
const NO_STEP = 'worker exited without taking a step';

/**
 * Drives runs forward (ARCHITECTURE.md §4): picks `pending` runs, grants each a bounded
 * segment, starts a fresh worker from the last checkpoint, and decides what the segment's
 * end means. A worker that dies, hangs past its segment or breaks the protocol is killed
 * and costs one retry; spent retries fail the run. Correctness never depends on the worker.
 */
export class Supervisor implements Disposable {
  readonly #deps: SupervisorDeps;
  readonly #active = new Map<string, Active>();
  /**
   * Runs holding one of the `maxConcurrent` slots: taken when `segment.started` commits,
   * freed once `segment.ended` has. Counted instead of `#active`, which fills only after
   * the worker's token is minted and the process spawned — meanwhile `#fill` would admit
   * more segments than the limit.
   */
  readonly #slots = new Set<string>();
  readonly #segments = new Set<Promise<void>>();
  #subscription: Disposable | undefined;
  #stopping = false;
  #pumping = false;
  #pumpAgain = false;
  /** One timer for the earliest pending run still waiting out an LLM backoff. */
  #backoffTimer: NodeJS.Timeout | undefined;
  /** Wakes the pump when a new day lifts the host's daily token cap. */
  #dayTimer: NodeJS.Timeout | undefined;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#subscription = this.#deps.chain.subscribe((entries) => {
      this.#onEntries(entries);
    });
    this.#pump();
  }

  /** Runs with a segment in progress. */
  get activeRuns(): string[] {
    return [...this.#active.keys()];
  }

  /**
   * Stops taking work, ends every segment, and queues interrupted runs to resume at the
   * next start — a clean stop costs no retry.
   */
  async dispose(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#backoffTimer);
    clearTimeout(this.#dayTimer);
    await this.#subscription?.dispose();
    for (const [, active] of this.#active) {
      active.killReason = 'host stopping';
      active.abort.abort();
      active.worker.kill('SIGKILL');
    }
    await Promise.allSettled([...this.#segments]);
  }

  #onEntries(entries: readonly ChainEntry[]): void {
    let wake = false;
    for (const entry of entries) {
      if (entry.event_type === 'run.created') wake = true;
      // Resumed, or a cap raised: runs held back may start now.
      if (entry.event_type === 'policy.decision' && entry.rule_id?.startsWith('host.agents.'))
        wake = true;
      if (entry.event_type !== 'run.transition' || entry.run_id === null) continue;
      const to = entry.data.to;
      if (to === 'pending') wake = true;
      const active = this.#active.get(entry.run_id);
      // Someone else ended the run (cancel, a failed budget): its worker has nothing left to do.
      if (active !== undefined && (to === 'cancelled' || to === 'failed')) {
        active.killReason ??= `run ${to}`;
        active.abort.abort();
        active.worker.kill('SIGKILL');
      }
    }
    if (wake) this.#pump();
  }

  /** Starts segments for pending runs, oldest first, up to the concurrency limit. */
  #pump(): void {
    if (this.#stopping) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#fill()
      .catch((err: unknown) => {
        this.#deps.logger.error({ err }, 'supervisor could not schedule runs');
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #fill(): Promise<void> {
    const controls = this.#deps.controls;
    while (!this.#stopping && this.#slots.size < controls.maxConcurrent) {
      // Paused, or today's tokens spent: nothing starts; runs show why (RunService).
      if (controls.holdNote() !== undefined) {
        this.#armDayTimer();
        break;
      }
      const free = controls.maxConcurrent - this.#slots.size;
      const now = this.#deps.clock.now().toISOString();
      const candidates = await this.#deps.db
        .selectFrom('runs')
        .select('id')
        .where('state', '=', 'pending')
        // An external run (an MCP session's) is driven by its client: never start a worker.
        .where('driver', '=', 'worker')
        .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', now)]))
        .orderBy('updated_at', 'asc')
        .orderBy('id', 'asc')
        .limit(free + this.#slots.size)
        .execute();
      const fresh = candidates.filter((c) => !this.#slots.has(c.id)).slice(0, free);
      if (fresh.length === 0) break;
      let started = 0;
      for (const { id } of fresh) {
        if (await this.#startSegment(id)) started += 1;
      }
      if (started === 0) break;
    }
    await this.#armBackoffTimer();
  }

  /** A daily token cap holds the host: look again when the day turns. */
  #armDayTimer(): void {
    if (this.#deps.controls.paused || this.#dayTimer !== undefined) return;
    const delay =
      Math.max(0, this.#deps.controls.nextDayStart().getTime() - this.#deps.clock.now().getTime()) +
      5;
    this.#dayTimer = setTimeout(() => {
      this.#dayTimer = undefined;
      this.#pump();
    }, delay);
    this.#dayTimer.unref();
  }

  /** Wakes the pump when the earliest backoff of a pending run is over. */
  async #armBackoffTimer(): Promise<void> {
    const next = await this.#deps.db
      .selectFrom('runs')
      .select((eb) => eb.fn.min('not_before').as('at'))
      .where('state', '=', 'pending')
      .where('not_before', '>', this.#deps.clock.now().toISOString())
      .executeTakeFirst();
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    const at = next?.at ?? null;
    if (at === null || this.#stopping) return;
    // A few milliseconds late rather than early: woken early, the run would still be waiting.
    const delay = Math.max(0, Date.parse(at) - this.#deps.clock.now().getTime()) + 5;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#pump();
    }, delay);
    this.#backoffTimer.unref();
  }

  /** Moves a pending run to running and starts its worker; false if another start won. */
  async #startSegment(runId: string): Promise<boolean> {
    let run: Run;
    let index: number;
    try {
      ({ run, index } = await this.#deps.chain.transact(async (tx) => {
        const before = await this.#deps.runs.getIn(tx, runId);
        if (before.state !== 'pending' || before.driver !== 'worker')
          throw new Error('not pending');
        const counted = await tx.db
          .selectFrom('chain')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('run_id', '=', runId)
          .where('event_type', '=', 'segment.started')
          .executeTakeFirstOrThrow();
        const segmentIndex = counted.n;
        const running = await this.#deps.runs.transitionIn(tx, runId, 'running', {
          actor: SUPERVISOR_ACTOR,
        });
        await tx.append({
          event_type: 'segment.started',
          actor: SUPERVISOR_ACTOR,
          session_id: running.session_id,
          run_id: runId,
          // What the worker runs under, on every segment: a trace shows whether it was jailed.
          data: {
            segment: segmentIndex,
            isolation: this.#deps.spawner.isolation,
            unsafe: isUnjailed(this.#deps.spawner.isolation),
          },
        });
        return { run: running, index: segmentIndex };
      }));
    } catch (e) {
      if (e instanceof Error && e.message === 'not pending') return false;
      throw e;
    }
    this.#slots.add(runId);
    this.#deps.controls.setRunning(this.#slots.size);
    const segment = this.#segment(run, index)
      .catch((err: unknown) => {
        this.#deps.logger.error({ err, run_id: runId }, 'a segment failed to run');
      })
      .finally(() => {
        this.#slots.delete(runId);
        this.#deps.controls.setRunning(this.#slots.size);
        this.#pump();
      });
    this.#segments.add(segment);
    void segment.finally(() => this.#segments.delete(segment));
    return true;
  }

  async #segment(run: Run, index: number): Promise<void> {
    const pack = this.#deps.policies.forRun(run);
    const grant = {
      index,
      max_steps: pack.segment_max_steps,
      max_ms: pack.segment_max_ms,
      quotas: segmentQuotasOf(pack),
      llm_retry: pack.llm_retry ?? DEFAULT_LLM_RETRY,
    };
    const abort = new AbortController();
    const handlers = new RunSegment(
      { ...this.#deps.segmentDeps, llm: this.#deps.llmFor(run.id) },
      run,
      grant,
      abort.signal,
    );
    // The token dies with the segment even if nothing revokes it (issue 17 #19): it expires
    // after the worker's start-up allowance, the segment's time, the exit grace after which
    // the worker is killed, and a margin.
    const minted = await this.#deps.tokens.create(
      {
        kind: 'agent_session',
        label: `run ${run.id} segment ${index}`,
        run_id: run.id,
        expires_in_s: agentTokenLifetimeS(
          pack.worker_start_timeout_ms + grant.max_ms,
          this.#deps.exitGraceMs,
        ),
      },
      { actor: SUPERVISOR_ACTOR },
    );
    let why: string | undefined;
    let exit: WorkerExit = { code: null, signal: null };
    const watchdog = new WorkerWatchdog(
      {
        startMs: pack.worker_start_timeout_ms,
        segmentMs: grant.max_ms + this.#deps.exitGraceMs,
        silenceMs: pack.worker_silence_timeout_ms,
      },
      (reason) => {
        kill(reason);
      },
      () => {
        handlers.workerStarted();
      },
    );
    let kill: (reason: string) => void = () => undefined;
    let channel: Disposable | undefined;
    let worker: SpawnedWorker | undefined;
    try {
      worker = this.#deps.spawner.spawn({ runId: run.id, token: minted.token });
      const active: Active = { worker, abort, killReason: undefined };
      this.#active.set(run.id, active);
      const lastError = new WorkerLastError();
      worker.stderr.on('data', (chunk: Buffer) => {
        lastError.push(chunk.toString('utf8'));
        this.#deps.logger.debug(
          { run_id: run.id, worker: chunk.toString('utf8').slice(0, 2000) },
          'worker stderr',
        );
      });
      kill = (reason: string): void => {
        active.killReason ??= reason;
        abort.abort();
        active.worker.kill('SIGKILL');
      };
      watchdog.start();
      channel = await serveAgentChannel({
        activity: watchdog,
        input: worker.stdout,
        output: worker.stdin,
        handlers,
        token: minted.token,
        onProtocolError: (reason) => {
          kill(`protocol error: ${reason}`);
        },
        onUnexpectedError: (err) => {
          this.#deps.logger.error({ err, run_id: run.id }, 'agent channel handler failed');
        },
      });
      exit = await active.worker.exited;
      why = active.killReason;
      if (why === undefined && (exit.code !== 0 || exit.signal !== null)) {
        // The worker's last error is its own text: redacted like anything else we record.
        // A worker killed by a signal did not choose to stop: its last line is no error.
        const said = exit.code !== 0 && exit.code !== null ? lastError.take() : undefined;
        const error =
          said === undefined ? '' : `: ${this.#deps.segmentDeps.redactor.redactString(said)}`;
        why = `worker exited with ${exit.signal ?? `code ${String(exit.code)}`}${error}`;
      }
      if (why === undefined && handlers.steps === 0) why = NO_STEP;
    } catch (e) {
      why = `worker could not start: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      watchdog.dispose();
      await channel?.dispose();
      // Kills it if still running and removes its temporary folder (one per segment).
      await worker?.dispose();
    }
    try {
      await this.#closeSegment(run, index, handlers, why, exit);
    } finally {
      this.#active.delete(run.id);
      await this.#deps.tokens
        .revoke(minted.info.id, { actor: SUPERVISOR_ACTOR })
        .catch((err: unknown) => {
          this.#deps.logger.error({ err, run_id: run.id }, 'could not revoke a segment token');
        });
    }
  }

  /**
   * Ends the segment durably. A failed close is retried; if it keeps failing the run is
   * failed with the reason, so it never stays `running` with no worker until a restart.
   */
  async #closeSegment(
    run: Run,
    index: number,
    segment: RunSegment,
    why: string | undefined,
    exit: WorkerExit,
  ): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < CLOSE_ATTEMPTS; attempt++) {
      try {
        await this.#endSegment(run, index, segment, why, exit);
        return;
      } catch (err) {
        // The run moved on (cancelled, already closed): nothing left to close.
        if (isAppError(err) && err.code !== 'INTERNAL') return;
        lastError = err;
        this.#deps.logger.warn({ err, run_id: run.id, attempt }, 'closing a segment failed');
        await new Promise((resolve) => setTimeout(resolve, CLOSE_RETRY_MS * (attempt + 1)));
      }
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    this.#deps.logger.error({ err: lastError, run_id: run.id }, 'could not close a segment');
    try {
      await this.#deps.runs.transition(run.id, 'failed', {
        actor: SUPERVISOR_ACTOR,
        reason: `segment_close_failed: ${message.slice(0, 200)}`,
      });
    } catch (err) {
      // Start-up recovery finds it `running` and queues it again: late, but never lost.
      this.#deps.logger.error(
        { err, run_id: run.id },
        'could not fail a run whose segment did not close',
      );
    }
  }

  /** Decides what the end of a segment means for the run, in one transaction. */
  async #endSegment(
    run: Run,
    index: number,
    segment: RunSegment,
    why: string | undefined,
    exit: WorkerExit,
  ) {
    await this.#deps.chain.transact(async (tx) => {
      const now = await this.#deps.runs.getIn(tx, run.id);
      const stopping = why === 'host stopping';
      // A run no longer running was moved on by its worker or a person (paused to resume
      // later, cancelled): leaving without a step is then no fault.
      let failure = why === NO_STEP && now.state !== 'running' ? undefined : why;
      const elapsed = segment.takeUncharged();
      // The worker stops on its own when the budget it was shown is spent (it sees the
      // remaining steps and tokens). That is the budget's end, not a fault: apply the pack's
      // decision as a refused step would, instead of charging retries until the run fails.
      const backoff = stopping ? undefined : segment.llmBackoff;
      // Paused (or the day's tokens spent) before its first step: the worker stopped because
      // it was told to, which is no fault and costs no retry.
      const held =
        why === NO_STEP && exit.code === 0 && this.#deps.controls.holdNote() !== undefined;
      if (held) failure = undefined;
      const spent =
        backoff === undefined &&
        !held &&
        now.state === 'running' &&
        why === NO_STEP &&
        exit.code === 0
          ? await this.#deps.meter.checkIn(tx, now, { steps: 1, tokens: 1, activeMs: elapsed })
          : undefined;
      if (spent !== undefined) {
        const usage = await this.#deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
        await this.#deps.meter.overrunIn(tx, { ...now, usage }, spent, { actor: SUPERVISOR_ACTOR });
        failure = undefined;
      } else if (backoff !== undefined && now.state === 'running') {
        // The provider failed, not the worker: wait it out without spending a retry.
        await this.#deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
        await this.#deps.runs.transitionIn(tx, run.id, 'pending', {
          actor: SUPERVISOR_ACTOR,
          reason: backoff.reason,
          not_before: backoff.until,
        });
        failure = undefined;
      } else if (now.state === 'running') {
        const failed = why !== undefined && !stopping && !held;
        const limits = await this.#deps.meter.limitsIn(tx, now);
        // A failure with no retry left is not retried, so it is not charged as one: the
        // usage never shows more retries than the budget allows.
        const exhausted = failed && now.usage.retries >= limits.retries;
        await this.#deps.meter.chargeIn(tx, now, {
          wall_clock_ms: elapsed,
          retries: failed && !exhausted ? 1 : 0,
        });
        if (exhausted) {
          await this.#deps.runs.transitionIn(tx, run.id, 'failed', {
            actor: SUPERVISOR_ACTOR,
            reason: `retries_exhausted: ${why}`,
          });
        } else {
          await this.#deps.runs.transitionIn(tx, run.id, 'pending', {
            actor: SUPERVISOR_ACTOR,
            reason: stopping
              ? 'host stopped: resumes from its last checkpoint'
              : failed
                ? `worker failed (${why}): resumes from its last checkpoint`
                : 'segment ended',
            ...(failed ? { trigger: 'recovery' as const } : {}),
          });
        }
      } else if (elapsed > 0) {
        await this.#deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
      }
      await tx.append({
        event_type: 'segment.ended',
        actor: SUPERVISOR_ACTOR,
        session_id: run.session_id,
        run_id: run.id,
        data: {
          segment: index,
          steps: segment.steps,
          exit_code: exit.code,
          signal: exit.signal,
          failure: failure ?? null,
        },
      });
    });
  }
}
