import { isTerminalState, type ContinueRunInput, type Run } from '../../contracts/runs.ts';
import type { ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import type { RunService } from './run-service.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { segmentQuotasOf } from './segment-quotas.ts';

export type ContinueRunDeps = {
  runs: RunService;
  checkpoints: CheckpointStore;
  chain: CausalChain;
  policies: PolicyPacks;
};

/**
 * Continues an ended run (done, failed — e.g. on its budget —, or cancelled) as a new run:
 * the same goals and completion predicate, `parent_run_id` naming the original, and the
 * original's last checkpoint copied as the new run's first, so its first worker resumes the
 * conversation where the original stopped. The new run gets its own budget (the original's
 * stays as it was: budgets are immutable) and the original stays terminal. Creating the run,
 * its goals and the copied checkpoint is one transaction with their chain entries.
 */
export async function continueRun(
  deps: ContinueRunDeps,
  parentId: string,
  input: ContinueRunInput,
  ctx: ActorContext,
): Promise<Run> {
  const parent = await deps.runs.get(parentId);
  if (!isTerminalState(parent.state)) {
    throw new AppError(
      'CONFLICT',
      `run ${parentId} is ${parent.state}: only an ended run can be continued (cancel it first, or let it finish)`,
    );
  }
  // Read outside the transaction (the store's one connection is held inside it); an ended
  // run takes no more checkpoints, so this is its last one.
  const [goals, checkpoint] = await Promise.all([
    deps.runs.goals(parentId),
    deps.checkpoints.latest(parentId),
  ]);
  const [first, ...rest] = goals;
  return deps.chain.transact(async (tx) => {
    const run = await deps.runs.createIn(
      tx,
      {
        goal: first?.text ?? parent.goal,
        ...(parent.completion === null ? {} : { completion: parent.completion }),
        ...(rest.length === 0
          ? {}
          : {
              subgoals: rest.map((g) => ({
                text: g.text,
                ...(g.predicate === null ? {} : { predicate: g.predicate }),
              })),
            }),
        ...(input.budget === undefined ? {} : { budget: input.budget }),
        policy_pack: input.policy_pack ?? parent.policy_pack,
      },
      { ...ctx, parent_run_id: parent.id },
    );
    if (checkpoint !== undefined) {
      await deps.checkpoints.saveIn(tx, {
        run_id: run.id,
        session_id: run.session_id,
        segment: 0,
        state: checkpoint.state,
        actor: ctx.actor,
        keep: segmentQuotasOf(deps.policies.forRun(run)).checkpoints_kept,
      });
    }
    return run;
  });
}
