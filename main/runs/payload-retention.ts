import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db } from '../store/schema.ts';

/** States after which a run's payloads are no longer what it resumes from. */
const ENDED_STATES = ['done', 'failed', 'cancelled'] as const;

/**
 * The ended runs whose payloads (tool inputs and outputs, prompts and answers) are past the
 * `retention.payload_retention_ms` of the pack each was created under, counted from when the
 * run ended (its last transition: terminal states are final). A pack without the field keeps
 * payloads until a person purges them.
 */
export async function runsPastPayloadRetention(
  db: Db,
  policies: PolicyPacks,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .selectFrom('runs')
    .select(['id', 'policy_pack', 'policy_pack_version', 'updated_at'])
    .where('state', 'in', ENDED_STATES)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('payloads')
          .select('payloads.id')
          .whereRef('payloads.run_id', '=', 'runs.id')
          .where('payloads.content', 'is not', null),
      ),
    )
    .execute();
  return rows
    .filter((run) => {
      const keep = policies.forRun(run).retention?.payload_retention_ms;
      return keep !== undefined && Date.parse(run.updated_at) + keep <= now.getTime();
    })
    .map((run) => run.id);
}
