import type { Approval } from '../../contracts/approvals.ts';
import type { GrantRequest } from '../../contracts/grant-request.ts';
import type { Grant, GrantBasis } from '../../contracts/grants.ts';
import type { Kysely } from 'kysely';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Database, Db, GrantsTable } from '../store/schema.ts';
import { grantExpiry, grantRefusalOf } from './grant-policy.ts';
import { basisFromColumn, grantFromRow } from './grant-rows.ts';
import type { RunService } from './run-service.ts';
import { scheduleOfRunIn } from './run-schedule.ts';

export type GrantIssuingDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  policies: PolicyPacks;
};

/** The basis a grant of this approval would have, if its call can be granted at all. */
async function grantBasisOf(
  db: Kysely<Database>,
  approvalId: string,
): Promise<GrantBasis | undefined> {
  const row = await db
    .selectFrom('approvals')
    .select('grant_basis')
    .where('id', '=', approvalId)
    .executeTakeFirstOrThrow();
  return basisFromColumn(row.grant_basis);
}

/**
 * Refuses, before anything is recorded, a grant that policy never allows; each refusal is
 * a `policy.decision` entry with its rule. Input mistakes (no schedule, a past `until`)
 * are INVALID_INPUT and leave no entry.
 */
export async function checkGrantRequest(
  deps: GrantIssuingDeps,
  approval: Approval,
  request: GrantRequest,
  ctx: ActorContext,
): Promise<void> {
  const basis = await grantBasisOf(deps.db, approval.id);
  const run = await deps.runs.get(approval.run_id);
  const refusal = grantRefusalOf(approval, basis, deps.policies.forRun(run));
  if (refusal !== undefined) {
    await deps.chain.append({
      event_type: 'policy.decision',
      ...auditedBy(ctx),
      run_id: approval.run_id,
      step_id: approval.step_id,
      rule_id: refusal.rule_id,
      data: {
        decision: 'deny',
        subject: 'standing_grant',
        approval_id: approval.id,
        kind: approval.kind,
        scope: request.scope,
        reason: refusal.message,
      },
    });
    throw new AppError('GRANT_NOT_ALLOWED', refusal.message, { rule_id: refusal.rule_id });
  }
  if (request.until !== undefined && Date.parse(request.until) <= deps.clock.now().getTime()) {
    throw new AppError('INVALID_INPUT', `grant.until ${request.until} has already passed`, {
      fields: [{ path: 'grant.until', message: 'must be in the future' }],
    });
  }
}

/** Makes the grant of a just-approved approval, in the decision's transaction. */
export async function issueGrantIn(
  tx: ChainTx,
  deps: GrantIssuingDeps,
  approval: Approval,
  request: GrantRequest,
  ctx: ActorContext,
): Promise<Grant> {
  const basis = await grantBasisOf(tx.db, approval.id);
  const run = await deps.runs.getIn(tx, approval.run_id);
  const pack = deps.policies.forRun(run);
  const refusal = grantRefusalOf(approval, basis, pack);
  if (refusal !== undefined || basis === undefined)
    throw new AppError('GRANT_NOT_ALLOWED', refusal?.message ?? 'no grant basis', {
      rule_id: refusal?.rule_id,
    });
  const scheduleId = request.scope === 'schedule' ? await scheduleOfRunIn(tx.db, run.id) : null;
  if (request.scope === 'schedule' && scheduleId === null) {
    throw new AppError(
      'INVALID_INPUT',
      `run ${run.id} was not started or resumed by a schedule; grant it for this run instead`,
      { fields: [{ path: 'grant.scope', message: 'the run has no schedule' }] },
    );
  }
  const now = deps.clock.now();
  const stored: GrantsTable = {
    id: newId('grt'),
    approval_id: approval.id,
    kind: approval.kind,
    scope: request.scope,
    run_id: run.id,
    schedule_id: scheduleId,
    grant_key: basis.key,
    tool: basis.tool,
    skill_id: basis.skill_id,
    skill_version: basis.skill_version,
    permission_diff: JSON.stringify(approval.permission_diff),
    taint_gated: basis.taint_gated ? 1 : 0,
    max_uses: request.uses ?? null,
    uses: 0,
    expires_at: grantExpiry(now, request.until, pack).toISOString(),
    created_by: ctx.actor,
    created_at: now.toISOString(),
    revoked_at: null,
    revoked_by: null,
    last_used_at: null,
  };
  await tx.db.insertInto('grants').values(stored).execute();
  await tx.append({
    event_type: 'grant.created',
    ...auditedBy(ctx),
    run_id: run.id,
    step_id: approval.step_id,
    data: {
      grant_id: stored.id,
      approval_id: approval.id,
      scope: stored.scope,
      schedule_id: scheduleId,
      tool: stored.tool,
      skill_id: stored.skill_id,
      skill_version: stored.skill_version,
      skill_digest: basis.skill_digest,
      permission_diff: approval.permission_diff,
      taint_gated: basis.taint_gated,
      max_uses: stored.max_uses,
      expires_at: stored.expires_at,
      ...(request.until === undefined ? {} : { requested_until: request.until }),
    },
  });
  return grantFromRow(stored, now);
}
