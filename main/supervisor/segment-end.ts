import type { Run } from '../../contracts/runs.ts';
import type { WorkerExit } from '../agent/spawn/spawner.ts';
import { isAppError } from '../errors.ts';
import type { RunSegment } from './run-segment.ts';
import { SUPERVISOR_ACTOR, type SupervisorDeps } from './supervisor-deps.ts';

/** What closing a segment needs of the supervisor's services. */
export type SegmentEndDeps = Pick<
  SupervisorDeps,
  'chain' | 'runs' | 'meter' | 'controls' | 'logger' | 'tokens'
>;

/** Attempts to commit a segment's end before the run is failed instead. */
const CLOSE_ATTEMPTS = 3;
const CLOSE_RETRY_MS = 50;

/** A segment that ended cleanly without a single step: no progress, so normally a fault. */
export const NO_STEP = 'worker exited without taking a step';

/**
 * Ends the segment durably, revoking its agent token (`tokenId`) in the same commit. A failed
 * close is retried; if it keeps failing the run is failed with the reason, so it never stays
 * `running` with no worker until a restart. True when the end committed, the revocation with
 * it; otherwise the caller still has the token to revoke.
 */
export async function closeSegment(
  deps: SegmentEndDeps,
  run: Run,
  index: number,
  segment: RunSegment,
  why: string | undefined,
  exit: WorkerExit,
  tokenId: string,
): Promise<boolean> {
  let lastError: unknown;
  for (let attempt = 0; attempt < CLOSE_ATTEMPTS; attempt++) {
    try {
      await endSegment(deps, run, index, segment, why, exit, tokenId);
      return true;
    } catch (err) {
      // The run moved on (cancelled, already closed): nothing left to close.
      if (isAppError(err) && err.code !== 'INTERNAL') return false;
      lastError = err;
      deps.logger.warn({ err, run_id: run.id, attempt }, 'closing a segment failed');
      await new Promise((resolve) => setTimeout(resolve, CLOSE_RETRY_MS * (attempt + 1)));
    }
  }
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  deps.logger.error({ err: lastError, run_id: run.id }, 'could not close a segment');
  try {
    await deps.runs.transition(run.id, 'failed', {
      actor: SUPERVISOR_ACTOR,
      reason: `segment_close_failed: ${message.slice(0, 200)}`,
    });
  } catch (err) {
    // Start-up recovery finds it `running` and queues it again: late, but never lost.
    deps.logger.error({ err, run_id: run.id }, 'could not fail a run whose segment did not close');
  }
  return false;
}

/** Decides what the end of a segment means for the run, in one transaction. */
async function endSegment(
  deps: SegmentEndDeps,
  run: Run,
  index: number,
  segment: RunSegment,
  why: string | undefined,
  exit: WorkerExit,
  tokenId: string,
) {
  await deps.chain.transact(async (tx) => {
    const now = await deps.runs.getIn(tx, run.id);
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
    const held = why === NO_STEP && exit.code === 0 && deps.controls.holdNote() !== undefined;
    if (held) failure = undefined;
    const spent =
      backoff === undefined &&
      !held &&
      now.state === 'running' &&
      why === NO_STEP &&
      exit.code === 0
        ? await deps.meter.checkIn(tx, now, { steps: 1, tokens: 1, activeMs: elapsed })
        : undefined;
    if (spent !== undefined) {
      const usage = await deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
      await deps.meter.overrunIn(tx, { ...now, usage }, spent, { actor: SUPERVISOR_ACTOR });
      failure = undefined;
    } else if (backoff !== undefined && now.state === 'running') {
      // The provider failed, not the worker: wait it out without spending a retry.
      await deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
      await deps.runs.transitionIn(tx, run.id, 'pending', {
        actor: SUPERVISOR_ACTOR,
        reason: backoff.reason,
        not_before: backoff.until,
      });
      failure = undefined;
    } else if (now.state === 'running') {
      const failed = why !== undefined && !stopping && !held;
      const limits = await deps.meter.limitsIn(tx, now);
      // A failure with no retry left is not retried, so it is not charged as one: the
      // usage never shows more retries than the budget allows.
      const exhausted = failed && now.usage.retries >= limits.retries;
      await deps.meter.chargeIn(tx, now, {
        wall_clock_ms: elapsed,
        retries: failed && !exhausted ? 1 : 0,
      });
      if (exhausted) {
        await deps.runs.transitionIn(tx, run.id, 'failed', {
          actor: SUPERVISOR_ACTOR,
          reason: `retries_exhausted: ${why}`,
        });
      } else {
        await deps.runs.transitionIn(tx, run.id, 'pending', {
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
      await deps.meter.chargeIn(tx, now, { wall_clock_ms: elapsed });
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
    await deps.tokens.revokeIn(tx, tokenId, { actor: SUPERVISOR_ACTOR });
  });
}
