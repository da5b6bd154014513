import type { CompletionPredicate, Goal } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { assertNever } from '../errors.ts';
import { applyJsonLogic } from '../json-logic.ts';
import { parseSkillMemoryNamespace } from './skill-memory-namespace.ts';

/**
 * Memory namespace private to one run (`ccos/memory.*` on the agent channel): the agent's
 * scratch space, which is why completion facts never read it.
 */
export function runMemoryNamespace(runId: string): string {
  return `run:${runId}`;
}

/**
 * What predicates are evaluated over: only what the host itself recorded for the run —
 * its skill calls (tool, skill and version, outcome, output) and the memory skills wrote on
 * its behalf, by skill, namespace and key. Never the agent's own `run:<id>` namespace: the
 * agent writes that freely, so a predicate over it would let a worker satisfy its own goal.
 */
export type CompletionFacts = {
  memory: Record<string, Record<string, Record<string, unknown>>>;
  steps: {
    tool: string;
    skill_id: string | null;
    version: string | null;
    outcome: string;
    output: unknown;
  }[];
};

/** Reads the facts of a run inside a transaction, so the check and the Done transition agree. */
export async function readCompletionFacts(tx: ChainTx, runId: string): Promise<CompletionFacts> {
  const memoryRows = await tx.db
    .selectFrom('memory')
    .select(['namespace', 'key', 'value'])
    .where('run_id', '=', runId)
    .where('namespace', 'like', 'skill:%')
    .execute();
  const stepRows = await tx.db
    .selectFrom('chain')
    .select(['step_id', 'capability_id', 'capability_version', 'data'])
    .where('run_id', '=', runId)
    .where('event_type', '=', 'skill.execute')
    .orderBy('seq')
    .execute();
  // Outputs live in the run's payloads, which the chain names by digest (a purged one: null).
  const outcomeRows = await tx.db
    .selectFrom('payloads')
    .select(['step_id', 'digest', 'content'])
    .where('run_id', '=', runId)
    .where('kind', '=', 'tool.outcome')
    .execute();
  const outcomes = new Map(outcomeRows.map((r) => [`${r.step_id}\n${r.digest}`, r.content]));
  const outputOf = (stepId: string, data: { result?: unknown; output?: unknown }): unknown => {
    const digest = (data.result as { digest?: unknown } | undefined)?.digest;
    // Entries from before payloads held the output inline.
    if (typeof digest !== 'string') return data.output ?? null;
    const content = outcomes.get(`${stepId}\n${digest}`);
    if (content === undefined || content === null) return null;
    const outcome = JSON.parse(content) as { status?: unknown; output?: unknown };
    return outcome.status === 'ok' ? (outcome.output ?? null) : null;
  };
  const memory: CompletionFacts['memory'] = {};
  for (const row of memoryRows) {
    const owner = parseSkillMemoryNamespace(row.namespace);
    if (owner === undefined) continue;
    const skill = (memory[owner.skill_id] ??= {});
    const items = (skill[owner.namespace] ??= {});
    items[row.key] = JSON.parse(row.value) as unknown;
  }
  return {
    memory,
    steps: stepRows.map((r) => {
      const data = JSON.parse(r.data) as {
        tool?: unknown;
        outcome?: unknown;
        output?: unknown;
        result?: unknown;
      };
      return {
        tool: typeof data.tool === 'string' ? data.tool : '',
        skill_id: r.capability_id,
        version: r.capability_version,
        outcome: typeof data.outcome === 'string' ? data.outcome : '',
        output: outputOf(r.step_id, data),
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
    .select(['data', 'step_id'])
    .where('run_id', '=', runId)
    .where('event_type', '=', 'skill.execute')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (data.outcome === 'error') {
    // The message is in the outcome payload (issue 17 #15), older entries held it inline.
    const message =
      typeof data.message === 'string' ? data.message : await outcomeMessageIn(tx, runId, row);
    return { tool: text(data.tool), outcome: 'error', detail: `${text(data.code)}: ${message}` };
  }
  if (data.outcome === 'refused')
    return { tool: text(data.tool), outcome: 'refused', detail: text(data.reason) };
  return undefined;
}

/** The error message of a call's recorded outcome payload; empty once purged. */
async function outcomeMessageIn(
  tx: ChainTx,
  runId: string,
  entry: { step_id: string; data: string },
): Promise<string> {
  const ref = (JSON.parse(entry.data) as { result?: { digest?: unknown } }).result;
  if (typeof ref?.digest !== 'string') return '';
  const payload = await tx.db
    .selectFrom('payloads')
    .select('content')
    .where('run_id', '=', runId)
    .where('step_id', '=', entry.step_id)
    .where('kind', '=', 'tool.outcome')
    .where('digest', '=', ref.digest)
    .executeTakeFirst();
  if (payload?.content === null || payload?.content === undefined) return '';
  const outcome = JSON.parse(payload.content) as { message?: unknown };
  return typeof outcome.message === 'string' ? outcome.message : '';
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
