import {
  budgetClampSchema,
  budgetSchema,
  completionPredicateSchema,
  goalSchema,
  runSchema,
  usageSchema,
  type Goal,
  type Run,
} from '../../contracts/runs.ts';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Database, RunsTable } from '../store/schema.ts';

/** A run by id, parsed from its row (JSON columns are an edge); NOT_FOUND if there is none. */
export async function readRun(db: Kysely<Database>, id: string): Promise<Run> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new AppError('NOT_FOUND', `run ${id} not found`);
  return runFromRow(row);
}

/** A run's goals in their order: the kickoff goal first, then its subgoals. */
export async function readGoals(db: Kysely<Database>, runId: string): Promise<Goal[]> {
  const rows = await db
    .selectFrom('goals')
    .select(['ordinal', 'text', 'predicate', 'state'])
    .where('run_id', '=', runId)
    .orderBy('ordinal')
    .execute();
  return rows.map((r) =>
    goalSchema.parse({
      ...r,
      predicate: r.predicate === null ? null : (JSON.parse(r.predicate) as unknown),
    }),
  );
}

/** A run as it is stored: JSON columns as text, no clamps as NULL. */
export function runToRow(run: Run): RunsTable {
  return {
    ...run,
    budget: JSON.stringify(run.budget),
    usage: JSON.stringify(run.usage),
    completion: run.completion === null ? null : JSON.stringify(run.completion),
    budget_clamps: run.budget_clamps.length === 0 ? null : JSON.stringify(run.budget_clamps),
  };
}

const BUDGET_CLAMPS = z.array(budgetClampSchema);

/** A stored run, its JSON columns parsed. */
export function runFromRow(row: RunsTable): Run {
  return runSchema.parse({
    ...row,
    budget: budgetSchema.parse(JSON.parse(row.budget)),
    usage: usageSchema.parse(JSON.parse(row.usage)),
    budget_clamps:
      row.budget_clamps === null ? [] : BUDGET_CLAMPS.parse(JSON.parse(row.budget_clamps)),
    completion:
      row.completion === null ? null : completionPredicateSchema.parse(JSON.parse(row.completion)),
  });
}
