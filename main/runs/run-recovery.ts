import { TERMINAL_STATES, type Run, type RunState } from '../../contracts/runs.ts';
import type { ActorContext } from '../actor-context.ts';
import type { Db } from '../store/schema.ts';
import { listRuns } from './run-queries.ts';
import type { TransitionOptions } from './run-transition.ts';

export type RecoveryOutcome = { run_id: string; outcome: 'resumable' | 'failed' | 'ended' };

/** Why an external run ends when its MCP session closes, idles out, or is lost to a restart. */
export const MCP_SESSION_CLOSED = 'mcp_session_closed';

export type RunRecoveryDeps = {
  db: Db;
  /** One transition in its own transaction (`RunService.transition`). */
  transition: (runId: string, to: RunState, options: TransitionOptions) => Promise<Run>;
};

/**
 * Start-up recovery (ARCHITECTURE.md §4). Every unfinished external run (an MCP session's),
 * in any state, ends `done` with reason `mcp_session_closed`: its session lived in the dead
 * host's memory. Then a run found `running` was interrupted by a crash: it goes back to
 * `pending` to resume from its last checkpoint, counting one retry, or fails with
 * `retries_exhausted`. Each decision is its own transaction and chain entry.
 */
export async function recoverInterruptedRuns(
  deps: RunRecoveryDeps,
  ctx: ActorContext,
): Promise<RecoveryOutcome[]> {
  const outcomes = await endOrphanedExternalRuns(deps, ctx);
  outcomes.push(...(await recoverRunning(deps, ctx)));
  return outcomes;
}

/**
 * A host that stopped ended its sessions' runs; one that died left them `running`, or
 * paused or pending, and no client can reach them again, nor is there a worker to resume
 * them. Each ends as a closed session would (its pending approvals expire with it).
 */
async function endOrphanedExternalRuns(
  deps: RunRecoveryDeps,
  ctx: ActorContext,
): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = [];
  for (;;) {
    const orphaned = await deps.db
      .selectFrom('runs')
      .select('id')
      .where('driver', '=', 'external')
      .where('state', 'not in', [...TERMINAL_STATES])
      .orderBy('id')
      .limit(1000)
      .execute();
    if (orphaned.length === 0) return outcomes;
    for (const { id } of orphaned) {
      await deps.transition(id, 'done', {
        ...ctx,
        reason: `${MCP_SESSION_CLOSED}: the host restarted`,
      });
      outcomes.push({ run_id: id, outcome: 'ended' });
    }
  }
}

async function recoverRunning(
  deps: RunRecoveryDeps,
  ctx: ActorContext,
): Promise<RecoveryOutcome[]> {
  const interrupted = await listRuns(deps.db, { state: 'running', limit: 1000 });
  const outcomes: RecoveryOutcome[] = [];
  for (const run of interrupted) {
    const usage = { ...run.usage, retries: run.usage.retries + 1 };
    if (usage.retries > run.budget.max_retries) {
      await deps.transition(run.id, 'failed', {
        ...ctx,
        reason: 'retries_exhausted',
        usage: run.usage,
      });
      outcomes.push({ run_id: run.id, outcome: 'failed' });
    } else {
      await deps.transition(run.id, 'pending', {
        ...ctx,
        reason: 'interrupted: resumes from its last checkpoint',
        trigger: 'recovery',
        usage,
      });
      outcomes.push({ run_id: run.id, outcome: 'resumable' });
    }
  }
  // More than one page of interrupted runs: keep going until none is left running.
  if (interrupted.length === 1000) outcomes.push(...(await recoverRunning(deps, ctx)));
  return outcomes;
}
