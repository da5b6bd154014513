import type { Grant } from '../../contracts/grants.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import { grantFromRow } from './grant-rows.ts';

/**
 * Revokes a grant at once, in `tx`: the next call it would have covered asks a person.
 * Revoking one already revoked is a CONFLICT and changes nothing; an expired or used-up grant
 * may still be revoked (it says so on the record).
 */
export async function revokeGrantIn(
  tx: ChainTx,
  id: string,
  now: Date,
  ctx: ActorContext,
): Promise<Grant> {
  const at = now.toISOString();
  const revoked = await tx.db
    .updateTable('grants')
    .set({ revoked_at: at, revoked_by: ctx.actor })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (revoked === undefined) {
    const exists = await tx.db
      .selectFrom('grants')
      .select('revoked_at')
      .where('id', '=', id)
      .executeTakeFirst();
    if (exists === undefined) throw new AppError('NOT_FOUND', `grant ${id} not found`);
    throw new AppError('CONFLICT', `grant ${id} was already revoked at ${exists.revoked_at}`);
  }
  await tx.append({
    event_type: 'grant.revoked',
    ...auditedBy(ctx),
    run_id: revoked.run_id,
    data: {
      grant_id: revoked.id,
      approval_id: revoked.approval_id,
      tool: revoked.tool,
      uses: revoked.uses,
      max_uses: revoked.max_uses,
    },
  });
  return grantFromRow(revoked, now);
}

/**
 * Ends a run's own live grants at `now`, in the transaction that ends the run: they can
 * cover nothing any more, and listing them as active would say otherwise. A schedule's
 * grants outlive the run that made them. The run's final transition is the audit entry.
 */
export async function expireRunGrantsIn(tx: ChainTx, runId: string, now: Date): Promise<void> {
  const at = now.toISOString();
  await tx.db
    .updateTable('grants')
    .set({ expires_at: at })
    .where('scope', '=', 'run')
    .where('run_id', '=', runId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .execute();
}
