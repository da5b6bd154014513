import {
  runFailureSchema,
  stepSchema,
  type Run,
  type RunFailure,
  type RunState,
  type Step,
} from '../../contracts/runs.ts';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { readRun, runFromRow } from './run-rows.ts';

export type ListRunsQuery = {
  state?: RunState;
  session_id?: string;
  created_by?: string;
  limit?: number;
  /** Paging: runs created before this run id's position (ids are listed newest first). */
  before?: string;
};

/** Runs as stored, newest first, at most 1000 a page. */
export async function listRuns(db: Kysely<Database>, query: ListRunsQuery): Promise<Run[]> {
  let q = db
    .selectFrom('runs')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(query.limit ?? 100, 1000));
  if (query.state !== undefined) q = q.where('state', '=', query.state);
  if (query.session_id !== undefined) q = q.where('session_id', '=', query.session_id);
  if (query.created_by !== undefined) q = q.where('created_by', '=', query.created_by);
  if (query.before !== undefined) {
    const cursor = await readRun(db, query.before);
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', cursor.created_at),
        eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)]),
      ]),
    );
  }
  return (await q.execute()).map(runFromRow);
}

/** A run's steps in the order they started. */
export async function readSteps(db: Kysely<Database>, runId: string): Promise<Step[]> {
  const rows = await db
    .selectFrom('steps')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('started_at')
    .orderBy('step_id')
    .execute();
  return rows.map((r) =>
    stepSchema.parse({
      ...r,
      output_label: r.output_label === null ? null : (JSON.parse(r.output_label) as unknown),
    }),
  );
}

/**
 * The run's most recent failure from its chain: a segment that ended in a fault, or a
 * failed LLM call. Read from the chain, the record the supervisor writes in the same
 * transaction as the run's state.
 */
export async function readLastFailure(
  db: Kysely<Database>,
  runId: string,
): Promise<RunFailure | null> {
  const row = await db
    .selectFrom('chain')
    .select(['event_type', 'timestamp', 'data'])
    .where('run_id', '=', runId)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('event_type', '=', 'segment.ended'),
          eb(sql`json_extract(data, '$.failure')`, 'is not', null),
        ]),
        eb.and([
          eb('event_type', '=', 'llm.call'),
          eb(sql`json_extract(data, '$.outcome')`, '=', 'failed'),
        ]),
      ]),
    )
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return null;
  const data = JSON.parse(row.data) as { failure?: unknown; reason?: unknown; segment?: unknown };
  const segment = row.event_type === 'segment.ended';
  const said = segment ? data.failure : data.reason;
  return runFailureSchema.parse({
    kind: segment ? 'segment' : 'llm',
    at: row.timestamp,
    segment: typeof data.segment === 'number' ? data.segment : null,
    reason: typeof said === 'string' ? said : '',
  });
}
