import type { CompletionPredicate, Goal } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { assertNever } from '../errors.ts';
import { applyJsonLogic } from '../json-logic.ts';

/** Memory namespace private to one run (`ccos/memory.*` on the agent channel). */
export function runMemoryNamespace(runId: string): string {
  return `run:${runId}`;
}

/** What predicates are evaluated over: recorded state only, never the agent's word. */
export type CompletionFacts = {
  memory: Record<string, unknown>;
  steps: { tool: string; skill_id: string | null; outcome: string }[];
};

/** Reads the facts of a run inside a transaction, so the check and the Done transition agree. */
export async function readCompletionFacts(tx: ChainTx, runId: string): Promise<CompletionFacts> {
  const memoryRows = await tx.db
    .selectFrom('memory')
    .select(['key', 'value'])
    .where('namespace', '=', runMemoryNamespace(runId))
    .execute();
  const stepRows = await tx.db
    .selectFrom('chain')
    .select(['capability_id', 'data'])
    .where('run_id', '=', runId)
    .where('event_type', '=', 'skill.execute')
    .orderBy('seq')
    .execute();
  return {
    memory: Object.fromEntries(memoryRows.map((r) => [r.key, JSON.parse(r.value) as unknown])),
    steps: stepRows.map((r) => {
      const data = JSON.parse(r.data) as { tool?: unknown; outcome?: unknown };
      return {
        tool: typeof data.tool === 'string' ? data.tool : '',
        skill_id: r.capability_id,
        outcome: typeof data.outcome === 'string' ? data.outcome : '',
      };
    }),
  };
}

/** A tool call that did not succeed, as the chain recorded it (messages already redacted). */
export type FailedToolCall = { tool: string; outcome: 'error' | 'refused'; detail: string };

/**
 * The run's last tool call when it failed or was refused, else undefined: a claim of
 * completion right after one rests on a result the agent never got, so it is recorded with
 * this as evidence.
 */
export async function lastFailedToolCallIn(
  tx: ChainTx,
  runId: string,
): Promise<FailedToolCall | undefined> {
  const row = await tx.db
    .selectFrom('chain')
    .select('data')
    .where('run_id', '=', runId)
    .where('event_type', '=', 'skill.execute')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (data.outcome === 'error')
    return {
      tool: text(data.tool),
      outcome: 'error',
      detail: `${text(data.code)}: ${text(data.message)}`,
    };
  if (data.outcome === 'refused')
    return { tool: text(data.tool), outcome: 'refused', detail: text(data.reason) };
  return undefined;
}

/**
 * Whether a goal's completion predicate holds (ARCHITECTURE.md §4). Predicates are
 * declarative data evaluated by the host; a goal without one is met by the agent's claim.
 */
export function predicateHolds(
  predicate: CompletionPredicate | null,
  facts: CompletionFacts,
): boolean {
  if (predicate === null) return true;
  switch (predicate.kind) {
    case 'never':
      return false;
    case 'capability_succeeded': {
      const id = predicate.capability_id;
      return facts.steps.some(
        (s) =>
          s.outcome === 'ok' &&
          (s.skill_id === id || s.tool === id || s.tool === id.replace('.', '__')),
      );
    }
    case 'json_logic':
      return Boolean(applyJsonLogic(predicate.rule, facts));
    default:
      return assertNever(predicate);
  }
}

/** The goals whose predicate does not hold yet. */
export function unmetGoals(goals: readonly Goal[], facts: CompletionFacts): Goal[] {
  return goals.filter((g) => g.state === 'open' && !predicateHolds(g.predicate, facts));
}
