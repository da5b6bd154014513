import { isUnjailed } from '../../contracts/agent-isolation.ts';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import type { Run } from '../../contracts/runs.ts';
import type { CreatedToken } from '../../contracts/tokens.ts';
import type { Disposable } from '../disposable.ts';
import { AppError, isAppError } from '../errors.ts';
import { memoryPolicyOf } from '../memory/memory-policy.ts';
import { segmentQuotasOf } from '../runs/segment-quotas.ts';
import { DEFAULT_LLM_RETRY } from './llm-failure.ts';
import { RunSegment } from './run-segment.ts';
import { closeSegment } from './segment-end.ts';
import { runSegmentWorker, type ActiveWorker } from './segment-worker.ts';
import { SUPERVISOR_ACTOR, type SupervisorDeps } from './supervisor-deps.ts';
import { WakeTimers } from './wake-timers.ts';
import type { WorkerPool } from './worker-pool.ts';

export { SUPERVISOR_ACTOR, type SupervisorDeps } from './supervisor-deps.ts';

/** How long an agent-session token outlives its segment's kill deadline. */
export const AGENT_TOKEN_GRACE_MS = 60_000;

/** An agent-session token's lifetime: the segment's limit, the exit grace and a margin. */
export function agentTokenLifetimeS(segmentMaxMs: number, exitGraceMs: number): number {
  return Math.ceil((segmentMaxMs + exitGraceMs + AGENT_TOKEN_GRACE_MS) / 1000);
}

/**
 * Drives runs forward (ARCHITECTURE.md §4): picks `pending` runs, grants each a bounded
 * segment, starts a fresh worker from the last checkpoint, and decides what the segment's
 * end means. A worker that dies, hangs past its segment or breaks the protocol is killed
 * and costs one retry; spent retries fail the run. Correctness never depends on the worker.
 */
export class Supervisor implements Disposable {
  readonly #deps: SupervisorDeps;
  readonly #active = new Map<string, ActiveWorker>();
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
  readonly #timers: WakeTimers;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
    this.#timers = new WakeTimers(deps, () => {
      this.#pump();
    });
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
  /** Where segments take their workers (the pre-started ones, for diagnostics and tests). */
  get workers(): WorkerPool {
    return this.#deps.workers;
  }

  async dispose(): Promise<void> {
    this.#stopping = true;
    this.#timers.dispose();
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
        this.#timers.armDayTimer();
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
    await this.#timers.armBackoffTimer();
  }

  /** Moves a pending run to running and starts its worker; false if another start won. */
  async #startSegment(runId: string): Promise<boolean> {
    let started: { run: Run; index: number; pack: PolicyPack; minted: CreatedToken } | null;
    try {
      started = await this.#deps.chain.transact(async (tx) => {
        // `#fill` looked at the switch before its query; a pause since then committed in its
        // own transaction (setting the flag inside it), which ran wholly before this one or
        // runs after it: asked here, no segment starts after a pause (a loaded suite saw one).
        if (this.#deps.controls.holdNote() !== undefined) throw new Error('not pending');
        const before = await this.#deps.runs.getIn(tx, runId);
        if (before.state !== 'pending' || before.driver !== 'worker')
          throw new Error('not pending');
        const pack = this.#packOf(before);
        if (pack instanceof AppError) {
          // Left pending it would be the oldest candidate of every fill, and no run behind it
          // would start.
          await this.#deps.runs.transitionIn(tx, runId, 'failed', {
            actor: SUPERVISOR_ACTOR,
            reason: `policy_pack_unavailable: ${pack.message}`,
          });
          return null;
        }
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
        // Minted with the start, one commit fewer per segment. The token dies with the
        // segment even if nothing revokes it (issue 17 #19): it expires after the worker's
        // start-up allowance, the segment's time, the exit grace after which the worker is
        // killed, and a margin.
        const token = await this.#deps.tokens.createIn(
          tx,
          {
            kind: 'agent_session',
            label: `run ${runId} segment ${segmentIndex}`,
            run_id: runId,
            expires_in_s: agentTokenLifetimeS(
              pack.worker_start_timeout_ms + pack.segment_max_ms,
              this.#deps.exitGraceMs,
            ),
          },
          { actor: SUPERVISOR_ACTOR },
        );
        return { run: running, index: segmentIndex, pack, minted: token };
      });
    } catch (e) {
      if (e instanceof Error && e.message === 'not pending') return false;
      throw e;
    }
    if (started === null) return false;
    const { run, index, pack, minted } = started;
    this.#slots.add(runId);
    this.#deps.controls.setRunning(this.#slots.size);
    const segment = this.#segment(run, index, pack, minted)
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

  /** The pack a run is held to, or why there is none (its pack and version are both gone). */
  #packOf(run: Run): PolicyPack | AppError {
    try {
      return this.#deps.policies.forRun(run);
    } catch (err) {
      if (isAppError(err)) return err;
      throw err;
    }
  }

  /** Runs and closes a segment; its token is revoked with the close, or after it if that failed. */
  async #segment(run: Run, index: number, pack: PolicyPack, minted: CreatedToken): Promise<void> {
    let revoked = false;
    try {
      revoked = await this.#runAndClose(run, index, pack, minted);
    } finally {
      this.#active.delete(run.id);
      if (!revoked) {
        await this.#deps.tokens
          .revoke(minted.info.id, { actor: SUPERVISOR_ACTOR })
          .catch((err: unknown) => {
            this.#deps.logger.error({ err, run_id: run.id }, 'could not revoke a segment token');
          });
      }
    }
  }

  /** True when the segment's end committed, its token's revocation with it. */
  async #runAndClose(
    run: Run,
    index: number,
    pack: PolicyPack,
    minted: CreatedToken,
  ): Promise<boolean> {
    const grant = {
      index,
      max_steps: pack.segment_max_steps,
      max_ms: pack.segment_max_ms,
      quotas: segmentQuotasOf(pack),
      memory: memoryPolicyOf(pack),
      llm_retry: pack.llm_retry ?? DEFAULT_LLM_RETRY,
    };
    const abort = new AbortController();
    const handlers = new RunSegment(
      { ...this.#deps.segmentDeps, llm: this.#deps.llmFor(run.id) },
      run,
      grant,
      abort.signal,
    );
    const { why, exit } = await runSegmentWorker(
      this.#deps,
      run,
      handlers,
      {
        token: minted.token,
        abort,
        startMs: pack.worker_start_timeout_ms,
        segmentMs: grant.max_ms + this.#deps.exitGraceMs,
        silenceMs: pack.worker_silence_timeout_ms,
      },
      (active) => {
        this.#active.set(run.id, active);
      },
    );
    return closeSegment(this.#deps, run, index, handlers, why, exit, minted.info.id);
  }
}
