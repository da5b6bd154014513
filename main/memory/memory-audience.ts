import type { MemoryAudience } from '../../contracts/memory.ts';
import type { ChainTx } from '../chain/causal-chain.ts';

/**
 * Who is reading, as far as audiences are concerned: the run a read is made for (with its
 * session, and the schedule or connector that created it) or the person (`ui`). A reader
 * with neither — a skill's onboarding, outside any run — sees only `namespace` items.
 */
export type AudienceContext = {
  run_id: string | null;
  session_id: string | null;
  schedule_id: string | null;
  connector_id: string | null;
  /** The person through the UI or the admin API: the only reader of `ui_only` items. */
  ui: boolean;
};

export const NO_RUN_AUDIENCE: AudienceContext = {
  run_id: null,
  session_id: null,
  schedule_id: null,
  connector_id: null,
  ui: false,
};

/** The schedule or connector a run's creator names (`schedule:<id>`, `connector:<id>`). */
function createdBy(actor: string, prefix: 'schedule' | 'connector'): string | null {
  return actor.startsWith(`${prefix}:`) ? actor.slice(prefix.length + 1) : null;
}

/** The audience context of a run, read in `tx` (a run that does not exist: none). */
export async function runAudienceIn(tx: ChainTx, runId: string | null): Promise<AudienceContext> {
  if (runId === null) return NO_RUN_AUDIENCE;
  const row = await tx.db
    .selectFrom('runs')
    .select(['session_id', 'created_by'])
    .where('id', '=', runId)
    .executeTakeFirst();
  if (row === undefined) return NO_RUN_AUDIENCE;
  return {
    run_id: runId,
    session_id: row.session_id,
    schedule_id: createdBy(row.created_by, 'schedule'),
    connector_id: createdBy(row.created_by, 'connector'),
    ui: false,
  };
}

/**
 * Whether an item with this audience may be read in `ctx`. The comparison is on ids the host
 * recorded (never on anything the reader says), so a run of another session cannot name its
 * way into a `session` item.
 */
export function audienceAdmits(
  audience: MemoryAudience,
  audienceId: string,
  ctx: AudienceContext,
): boolean {
  switch (audience) {
    case 'namespace':
      return true;
    case 'ui_only':
      return ctx.ui;
    case 'run':
      return ctx.run_id !== null && ctx.run_id === audienceId;
    case 'session':
      return ctx.session_id !== null && ctx.session_id === audienceId;
    case 'schedule':
      return ctx.schedule_id !== null && ctx.schedule_id === audienceId;
    case 'connector':
      return ctx.connector_id !== null && ctx.connector_id === audienceId;
  }
}

/** The id an audience is bound to for a writer in `ctx`; undefined when it has none. */
export function audienceIdFor(audience: MemoryAudience, ctx: AudienceContext): string | undefined {
  switch (audience) {
    case 'namespace':
    case 'ui_only':
      return '';
    case 'run':
      return ctx.run_id ?? undefined;
    case 'session':
      return ctx.session_id ?? undefined;
    case 'schedule':
      return ctx.schedule_id ?? undefined;
    case 'connector':
      return ctx.connector_id ?? undefined;
  }
}

/** How many readers an audience admits, for "no wider than": `ui_only` admits no agent. */
const BREADTH: Readonly<Record<MemoryAudience, number>> = {
  ui_only: 0,
  run: 1,
  session: 2,
  schedule: 3,
  connector: 3,
  namespace: 4,
};

/** `a` admits no reader `b` does not: `schedule` and `connector` are incomparable. */
export function audienceWithin(a: MemoryAudience, b: MemoryAudience): boolean {
  return a === b || BREADTH[a] < BREADTH[b];
}

/** When one key has items for several audiences, the reader gets the most specific one. */
export function audienceSpecificity(a: MemoryAudience): number {
  return BREADTH[a];
}
