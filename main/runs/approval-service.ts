import {
  approvalSchema,
  type Approval,
  type ApprovalDecisionInput,
  type ApprovalKind,
  type ApprovalState,
} from '../../contracts/approvals.ts';
import type { Run } from '../../contracts/runs.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Disposable } from '../disposable.ts';
import type { ApprovalsTable, Db } from '../store/schema.ts';
import type { ActorContext } from '../actor-context.ts';
import type { RunService } from './run-service.ts';
import { isTerminal } from './transitions.ts';
import { auditedBy } from '../actor-context.ts';

export type ApprovalRequest = {
  run_id: string;
  step_id: string;
  kind: ApprovalKind;
  scope: string;
  justification: string;
  permission_diff: Approval['permission_diff'];
  /** Shown to the person; the caller has redacted it. */
  request: Record<string, unknown>;
  /** The one call this approval covers (see migration 0005); null for approvals of no call. */
  match_key?: string | null;
  /** The gate that asks (e.g. `approval.pack_capabilities`), named on the `approval.request` entry. */
  rule_id: string;
};

/** Runs inside the decision's transaction once it is recorded (e.g. a budget grant); a throw undoes the decision. */
export type DecisionEffect = (tx: ChainTx, approval: Approval, ctx: ActorContext) => Promise<void>;

/** Checks a person's answer before a decision is recorded; throws INVALID_INPUT to refuse it. */
export type AnswerValidator = (
  approval: Approval,
  answer: Record<string, unknown> | undefined,
) => Promise<void>;

export type ApprovalServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
};

const DECISION_STATE: Record<ApprovalDecisionInput['decision'], ApprovalState> = {
  approve: 'approved',
  deny: 'denied',
  modify: 'modified',
};

/**
 * Approvals (CHAT-SECURITY-CONTRACT.md "Approvals"): requested by the host on a run's
 * behalf, decided once by a person. No side effect happens before the decision; a
 * decision resumes the run it paused. Approvals never fail open: a pending one stays
 * pending across restarts until someone decides it or the run ends.
 */
export class ApprovalService {
  readonly #deps: ApprovalServiceDeps;
  readonly #validators = new Map<ApprovalKind, AnswerValidator>();
  readonly #effects = new Map<ApprovalKind, DecisionEffect>();

  constructor(deps: ApprovalServiceDeps) {
    this.#deps = deps;
  }

  /** Lets the owner of an approval kind check answers (e.g. a missing-input form against its schema). */
  registerAnswerValidator(kind: ApprovalKind, validator: AnswerValidator): Disposable {
    this.#validators.set(kind, validator);
    return { dispose: () => void this.#validators.delete(kind) };
  }

  /** Lets the owner of an approval kind act on its decisions, in the same transaction. */
  registerDecisionEffect(kind: ApprovalKind, effect: DecisionEffect): Disposable {
    this.#effects.set(kind, effect);
    return { dispose: () => void this.#effects.delete(kind) };
  }

  /** Decided, unconsumed approvals covering exactly this call (newest first). */
  async findUsableIn(tx: ChainTx, runId: string, matchKey: string): Promise<Approval[]> {
    const rows = await tx.db
      .selectFrom('approvals')
      .selectAll()
      .where('run_id', '=', runId)
      .where('match_key', '=', matchKey)
      .where('consumed_at', 'is', null)
      .where('state', '!=', 'pending')
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(fromRow);
  }

  /** Marks an approval spent by the execution it allowed; false if it was already spent. */
  async consumeIn(tx: ChainTx, id: string): Promise<boolean> {
    const result = await tx.db
      .updateTable('approvals')
      .set({ consumed_at: this.#deps.clock.now().toISOString() })
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .where('state', '!=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Records a request and pauses the running run on it, in one transaction. */
  requestAndPause(
    request: ApprovalRequest,
    ctx: ActorContext,
  ): Promise<{ approval: Approval; run: Run }> {
    return this.#deps.chain.transact((tx) => this.requestAndPauseIn(tx, request, ctx));
  }

  /** `requestAndPause` inside a caller's transaction. */
  async requestAndPauseIn(
    tx: ChainTx,
    request: ApprovalRequest,
    ctx: ActorContext,
  ): Promise<{ approval: Approval; run: Run }> {
    const approval = await this.requestIn(tx, request, ctx);
    const run = await this.#deps.runs.transitionIn(tx, request.run_id, 'paused_approval', {
      ...ctx,
      reason: `waiting for ${request.kind} approval ${approval.id}`,
    });
    return { approval, run };
  }

  /** Records a request inside a caller's transaction. */
  async requestIn(tx: ChainTx, request: ApprovalRequest, ctx: ActorContext): Promise<Approval> {
    const { match_key: matchKey, rule_id: ruleId, ...shown } = request;
    const approval: Approval = {
      id: newId('apr'),
      ...shown,
      state: 'pending',
      decided_by: null,
      reason: null,
      created_at: this.#deps.clock.now().toISOString(),
      decided_at: null,
      answer: null,
      consumed_at: null,
    };
    await tx.db
      .insertInto('approvals')
      .values({ ...toRow(approval), match_key: matchKey ?? null })
      .execute();
    await tx.append({
      event_type: 'approval.request',
      ...auditedBy(ctx),
      // The session (and the run's pack version) are filled in by the chain from the run.
      run_id: approval.run_id,
      step_id: approval.step_id,
      rule_id: ruleId,
      data: {
        approval_id: approval.id,
        kind: approval.kind,
        scope: approval.scope,
        justification: approval.justification,
        permission_diff: approval.permission_diff,
      },
    });
    return approval;
  }

  async get(id: string): Promise<Approval> {
    const row = await this.#deps.db
      .selectFrom('approvals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw new AppError('NOT_FOUND', `approval ${id} not found`);
    return fromRow(row);
  }

  async list(
    query: { state?: ApprovalState; run_id?: string; limit?: number } = {},
  ): Promise<Approval[]> {
    let q = this.#deps.db
      .selectFrom('approvals')
      .selectAll()
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(Math.min(query.limit ?? 100, 1000));
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.run_id !== undefined) q = q.where('run_id', '=', query.run_id);
    return (await q.execute()).map(fromRow);
  }

  /**
   * Decides a pending approval exactly once; a replayed or duplicate decision is a
   * CONFLICT and changes nothing. When the run was paused on it and nothing else is
   * pending for that run, the run is queued to resume (a denial too: the agent is told).
   */
  decide(
    id: string,
    input: ApprovalDecisionInput,
    ctx: ActorContext,
  ): Promise<{ approval: Approval; run: Run }> {
    return this.#deps.chain.transact(async (tx) => {
      const row = await tx.db
        .selectFrom('approvals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined) throw new AppError('NOT_FOUND', `approval ${id} not found`);
      const before = fromRow(row);
      if (before.state !== 'pending') {
        throw new AppError(
          'CONFLICT',
          `approval ${id} was already decided (${before.state}); a decision is final`,
          {
            state: before.state,
          },
        );
      }
      const run = await this.#deps.runs.getIn(tx, before.run_id);
      if (isTerminal(run.state)) {
        throw new AppError(
          'CONFLICT',
          `run ${run.id} is ${run.state}; its approvals can no longer be decided`,
        );
      }
      const answer = input.decision === 'approve' ? input.answer : undefined;
      const validator = this.#validators.get(before.kind);
      if (input.decision === 'approve' && validator !== undefined) await validator(before, answer);
      const after: Approval = {
        ...before,
        answer: answer ?? null,
        state: DECISION_STATE[input.decision],
        scope: input.decision === 'modify' ? input.scope : before.scope,
        decided_by: ctx.actor,
        reason: input.reason ?? null,
        decided_at: this.#deps.clock.now().toISOString(),
      };
      await tx.db
        .updateTable('approvals')
        .set({
          state: after.state,
          scope: after.scope,
          decided_by: after.decided_by,
          reason: after.reason,
          decided_at: after.decided_at,
          answer: after.answer === null ? null : JSON.stringify(after.answer),
        })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .execute();
      await tx.append({
        event_type: 'approval.decision',
        ...auditedBy(ctx),
        session_id: run.session_id,
        run_id: run.id,
        step_id: before.step_id,
        data: {
          approval_id: id,
          kind: before.kind,
          decision: input.decision,
          state: after.state,
          ...(input.decision === 'modify'
            ? { scope_from: before.scope, scope_to: after.scope }
            : {}),
          reason: after.reason,
        },
      });
      await this.#effects.get(before.kind)?.(tx, after, ctx);
      const stillPending = await tx.db
        .selectFrom('approvals')
        .select('id')
        .where('run_id', '=', run.id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      const resumed =
        run.state === 'paused_approval' && stillPending === undefined
          ? await this.#deps.runs.transitionIn(tx, run.id, 'pending', {
              ...ctx,
              reason: `approval ${id} ${after.state}`,
              trigger: 'approval_decision',
            })
          : run;
      return { approval: after, run: resumed };
    });
  }
}

function toRow(a: Approval): Omit<ApprovalsTable, 'match_key'> {
  return {
    ...a,
    permission_diff: JSON.stringify(a.permission_diff),
    request: JSON.stringify(a.request),
    answer: a.answer === null ? null : JSON.stringify(a.answer),
  };
}

function fromRow(row: ApprovalsTable): Approval {
  // match_key is internal: the strict schema would refuse it, and callers never see it.
  const shown: Omit<ApprovalsTable, 'match_key'> & { match_key?: unknown } = { ...row };
  delete shown.match_key;
  return approvalSchema.parse({
    ...shown,
    answer: row.answer === null ? null : (JSON.parse(row.answer) as unknown),
    permission_diff: JSON.parse(row.permission_diff) as unknown,
    request: JSON.parse(row.request) as unknown,
  });
}
