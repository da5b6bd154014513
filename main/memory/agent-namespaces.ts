import type { AgentMemoryAudience } from '../../contracts/memory.ts';
import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { runMemoryNamespace } from '../runs/completion-check.ts';
import type { MemoryPolicy } from './memory-policy.ts';

/** Where an agent's namespace name is stored, and the audiences a write to it may have. */
export type AgentNamespace = {
  stored: string;
  /** What a write gets when it asks for no audience. */
  defaultAudience: AgentMemoryAudience;
  /** The widest audience a write may ask for. */
  widest: AgentMemoryAudience;
};

/** The names an agent may use besides the pack's shared namespaces. */
export const AGENT_OWN_NAMESPACES = ['run', 'goal', 'session'] as const;

/** A run's namespace for one goal of its queue: notes about that goal only. */
export function goalMemoryNamespace(runId: string, ordinal: number): string {
  return `goal:${runId}:${ordinal}`;
}

export function sessionMemoryNamespace(sessionId: string): string {
  return `session:${sessionId}`;
}

/**
 * A pack's shared namespace, apart from the person's own bare namespaces (`profile`, which
 * autofill reads): an agent writing to a shared one can never plant what autofill hands skills.
 */
export function sharedMemoryNamespace(name: string): string {
  return `shared:${name}`;
}

/** The first goal not yet met (or the last one), whose namespace `goal` means now. */
async function currentGoalIn(tx: ChainTx, runId: string): Promise<number> {
  const open = await tx.db
    .selectFrom('goals')
    .select('ordinal')
    .where('run_id', '=', runId)
    .where('state', '=', 'open')
    .orderBy('ordinal')
    .executeTakeFirst();
  if (open !== undefined) return open.ordinal;
  const last = await tx.db
    .selectFrom('goals')
    .select('ordinal')
    .where('run_id', '=', runId)
    .orderBy('ordinal', 'desc')
    .executeTakeFirst();
  return last?.ordinal ?? 0;
}

/**
 * Resolves the namespace an agent named: `run` (its own, the default), `goal` (the current
 * goal's), `session` (its session's), or a shared namespace the run's pack declares.
 * Anything else — another run's `run:<id>`, a skill's `skill:…`, a person's namespace the
 * pack does not share — is undefined: refused as undeclared. Stored names are derived from
 * the run the host granted, never from what the agent sent, so no spelling reaches another's.
 */
export async function resolveAgentNamespaceIn(
  tx: ChainTx,
  run: Run,
  policy: MemoryPolicy,
  name: string,
): Promise<AgentNamespace | undefined> {
  switch (name) {
    case 'run':
      return { stored: runMemoryNamespace(run.id), defaultAudience: 'run', widest: 'run' };
    case 'goal':
      return {
        stored: goalMemoryNamespace(run.id, await currentGoalIn(tx, run.id)),
        defaultAudience: 'run',
        widest: 'run',
      };
    case 'session':
      return {
        stored: sessionMemoryNamespace(run.session_id),
        defaultAudience: 'session',
        widest: 'session',
      };
  }
  const shared = policy.shared.find((s) => s.name === name);
  if (shared === undefined) return undefined;
  return {
    stored: sharedMemoryNamespace(shared.name),
    defaultAudience: shared.audience,
    widest: shared.audience,
  };
}
