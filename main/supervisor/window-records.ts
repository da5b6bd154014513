import type { LlmMessage } from '../../contracts/llm.ts';
import { labelAtomSchema, taintSchema } from '../../contracts/labels.ts';
import { UNKNOWN, label, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import { isArrivalNote } from '../runs/run-steering.ts';
import type { Db } from '../store/schema.ts';
import type { RecordedResult } from './context-window.ts';
import { callStepId } from './call-step-id.ts';

/**
 * What the host recorded about each tool result in a request: the step its call id names
 * (run-segment's `callStepId`), with the label, taint and source that step's output carries.
 * A step written before labels existed, or whose output the host could not label, reads
 * as unknown and untrusted.
 */
export async function recordedResults(
  db: Db,
  runId: string,
  messages: readonly LlmMessage[],
): Promise<Map<string, RecordedResult>> {
  const byStep = new Map<string, string>();
  for (const m of messages)
    if (m.role === 'tool') byStep.set(callStepId(runId, m.tool_call_id), m.tool_call_id);
  const results = new Map<string, RecordedResult>();
  if (byStep.size === 0) return results;
  const rows = await db
    .selectFrom('steps')
    .select(['step_id', 'output_label', 'output_taint', 'output_source', 'summary'])
    .where('run_id', '=', runId)
    .where('step_id', 'in', [...byStep.keys()])
    .execute();
  for (const r of rows) {
    const callId = byStep.get(r.step_id);
    if (callId === undefined) continue;
    const taint = taintSchema.safeParse(r.output_taint);
    results.set(callId, {
      name: r.output_source ?? `the result of ${r.summary.split(' ')[0] ?? 'a tool call'}`,
      step_id: r.step_id,
      label: storedLabel(r.output_label),
      taint: taint.success ? taint.data : 'untrusted',
    });
  }
  return results;
}

/** A label column as stored; anything unreadable is the most restrictive label. */
export function storedLabel(column: string | null): Label {
  if (column === null) return UNKNOWN;
  let parsed: unknown;
  try {
    parsed = JSON.parse(column);
  } catch {
    return UNKNOWN;
  }
  const atoms = labelAtomSchema.array().safeParse(parsed);
  return atoms.success ? label(atoms.data) : UNKNOWN;
}

/** A person's notes of the run a worker was handed, as it holds them (redacted). */
export async function deliveredNotes(db: Db, runId: string, redactor: Redactor): Promise<string[]> {
  const rows = await db
    .selectFrom('run_notes')
    .select(['id', 'text'])
    .where('run_id', '=', runId)
    .where('delivered_at', 'is not', null)
    .execute();
  // The host's arrival notes name a message's pointers: not a person's words, not their data.
  return rows.filter((r) => !isArrivalNote(r.id)).map((r) => redactor.redactString(r.text));
}
