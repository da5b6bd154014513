import type { Approval } from '../../contracts/approvals.ts';
import type { GrantRequest } from '../../contracts/grant-request.ts';
import type { Grant, GrantBasis, GrantState } from '../../contracts/grants.ts';
import type { Run } from '../../contracts/runs.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db, GrantsTable } from '../store/schema.ts';
import { grantExpiry, grantRefusalOf } from './grant-policy.ts';
import { basisFromColumn, grantFromRow } from './grant-rows.ts';
import type { RunService } from './run-service.ts';
import { scheduleOfRunIn } from './run-schedule.ts';

export type GrantServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  policies: PolicyPacks;
};

/** Where a grant would let a call through: the call's run, its step and who acts. */
export type GrantUse = { run: Run; step_id: string; ctx: ActorContext };

/**
 * Standing approvals (issue 22). A person deciding an operation approval may approve it as
 * a grant: later calls with the same basis (kind, operation, skill version and digest,
 * permission diff, taint gate) in the grant's scope go through without asking, until it is
 * used up, expires (the injected clock) or is revoked. Each use is spent by one conditional
 * UPDATE in the transaction of the call it lets through, so concurrent calls cannot spend a
 * grant of N uses more than N times.
 */
export class GrantService {
  readonly #deps: GrantServiceDeps;

  constructor(deps: GrantServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Refuses, before anything is recorded, a grant that policy never allows; each refusal is
   * a `policy.decision` entry with its rule. Input mistakes (no schedule, a past `until`)
   * are INVALID_INPUT and leave no entry.
   */
  async check(approval: Approval, request: GrantRequest, ctx: ActorContext): Promise<void> {
    const row = await this.#deps.db
      .selectFrom('approvals')
      .select('grant_basis')
      .where('id', '=', approval.id)
      .executeTakeFirstOrThrow();
    const run = await this.#deps.runs.get(approval.run_id);
    const refusal = grantRefusalOf(
      approval,
      basisFromColumn(row.grant_basis),
      this.#deps.policies.forRun(run),
    );
    if (refusal !== undefined) {
      await this.#deps.chain.append({
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
    if (
      request.until !== undefined &&
      Date.parse(request.until) <= this.#deps.clock.now().getTime()
    ) {
      throw new AppError('INVALID_INPUT', `grant.until ${request.until} has already passed`, {
        fields: [{ path: 'grant.until', message: 'must be in the future' }],
      });
    }
  }

  /** Makes the grant of a just-approved approval, in the decision's transaction. */
  async issueIn(
    tx: ChainTx,
    approval: Approval,
    request: GrantRequest,
    ctx: ActorContext,
  ): Promise<Grant> {
    const row = await tx.db
      .selectFrom('approvals')
      .select('grant_basis')
      .where('id', '=', approval.id)
      .executeTakeFirstOrThrow();
    const basis = basisFromColumn(row.grant_basis);
    const run = await this.#deps.runs.getIn(tx, approval.run_id);
    const pack = this.#deps.policies.forRun(run);
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
    const now = this.#deps.clock.now();
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

  /**
   * Ends a run's own grants when the run ends, in the transaction that ends it: they can
   * cover nothing any more, and listing them as active would say otherwise. A schedule's
   * grants outlive the run that made them. The run's final transition is the audit entry.
   */
  registerRunEndExpiry(): Disposable {
    return this.#deps.runs.registerRunEndHook(async (tx, run) => {
      const at = this.#deps.clock.now().toISOString();
      await tx.db
        .updateTable('grants')
        .set({ expires_at: at })
        .where('scope', '=', 'run')
        .where('run_id', '=', run.id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .execute();
    });
  }

  /**
   * Spends one use of a live grant covering this call, in the call's transaction, and records
   * it as `grant.used`; undefined when none covers it (the caller asks a person). A grant of
   * a taint-gated call is used only while the run's pack still allows such grants.
   */
  async useIn(tx: ChainTx, basis: GrantBasis, use: GrantUse): Promise<Grant | undefined> {
    const pack = this.#deps.policies.forRun(use.run);
    if (basis.taint_gated && pack.grants_allow_taint_gated !== true) return undefined;
    const now = this.#deps.clock.now();
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

  async get(id: string): Promise<Grant> {
    const row = await this.#deps.db
      .selectFrom('grants')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw new AppError('NOT_FOUND', `grant ${id} not found`);
    return grantFromRow(row, this.#deps.clock.now());
  }

  /** Grants, newest first; by state as of now, by run (made by it) or by schedule. */
  async list(
    query: { state?: GrantState; run_id?: string; schedule_id?: string; limit?: number } = {},
  ): Promise<Grant[]> {
    const now = this.#deps.clock.now();
    const at = now.toISOString();
    let q = this.#deps.db
      .selectFrom('grants')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 100, 1000));
    if (query.run_id !== undefined) q = q.where('run_id', '=', query.run_id);
    if (query.schedule_id !== undefined) q = q.where('schedule_id', '=', query.schedule_id);
    switch (query.state) {
      case undefined:
        break;
      case 'revoked':
        q = q.where('revoked_at', 'is not', null);
        break;
      case 'expired':
        q = q.where('revoked_at', 'is', null).where('expires_at', '<=', at);
        break;
      case 'used_up':
        q = q
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', at)
          .where('max_uses', 'is not', null)
          .where((eb) => eb('uses', '>=', eb.ref('max_uses')));
        break;
      case 'active':
        q = q
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', at)
          .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]));
        break;
    }
    return (await q.execute()).map((r) => grantFromRow(r, now));
  }

  /**
   * Revokes a grant at once: the next call it would have covered asks a person. Revoking one
   * already revoked is a CONFLICT and changes nothing; an expired or used-up grant may still be
   * revoked (it says so on the record).
   */
  revoke(id: string, ctx: ActorContext): Promise<Grant> {
    return this.#deps.chain.transact(async (tx) => {
      const now = this.#deps.clock.now();
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
    });
  }
}
