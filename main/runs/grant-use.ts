import type { Grant, GrantBasis } from '../../contracts/grants.ts';
import type { Run } from '../../contracts/runs.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { grantFromRow } from './grant-rows.ts';
import { scheduleOfRunIn } from './run-schedule.ts';

/** Where a grant would let a call through: the call's run, its step and who acts. */
export type GrantUse = { run: Run; step_id: string; ctx: ActorContext };

export type GrantUseDeps = { clock: Clock; policies: PolicyPacks };

/**
 * Spends one use of a live grant covering this call, in the call's transaction, and records
 * it as `grant.used`; undefined when none covers it (the caller asks a person). A grant of
 * a taint-gated call is used only while the run's pack still allows such grants.
 */
export async function useGrantIn(
  tx: ChainTx,
  deps: GrantUseDeps,
  basis: GrantBasis,
  use: GrantUse,
): Promise<Grant | undefined> {
  const pack = deps.policies.forRun(use.run);
  if (basis.taint_gated && pack.grants_allow_taint_gated !== true) return undefined;
  const now = deps.clock.now();
  const at = now.toISOString();
  const live = await tx.db
    .selectFrom('grants')
    .selectAll()
    .where('grant_key', '=', basis.key)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    // The one that ends soonest goes first, so a longer grant is kept for later.
    .orderBy('expires_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
  // The run's schedule is looked up only when a schedule's grant could answer.
  const scheduleId = live.some((g) => g.scope === 'schedule')
    ? await scheduleOfRunIn(tx.db, use.run.id)
    : null;
  const candidates = live.filter((g) =>
    g.scope === 'run'
      ? g.run_id === use.run.id
      : scheduleId !== null && g.schedule_id === scheduleId,
  );
  for (const candidate of candidates) {
    // The use is spent only if it is still there as the row is written: a concurrent call
    // that took the last one makes this update touch nothing.
    const spent = await tx.db
      .updateTable('grants')
      .set((eb) => ({ uses: eb('uses', '+', 1), last_used_at: at }))
      .where('id', '=', candidate.id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .returningAll()
      .executeTakeFirst();
    if (spent === undefined) continue;
    await tx.append({
      event_type: 'grant.used',
      ...auditedBy(use.ctx),
      run_id: use.run.id,
      step_id: use.step_id,
      data: {
        grant_id: spent.id,
        approval_id: spent.approval_id,
        scope: spent.scope,
        tool: spent.tool,
        skill_version: spent.skill_version,
        use: spent.uses,
        max_uses: spent.max_uses,
      },
    });
    return grantFromRow(spent, now);
  }
  return undefined;
}
