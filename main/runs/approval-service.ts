import {
  approvalSchema,
  type Approval,
  type ApprovalDecisionInput,
  type ApprovalKind,
  type ApprovalState,
} from '../../contracts/approvals.ts';
import type { GrantRequest } from '../../contracts/grant-request.ts';
import type { Grant, GrantBasis } from '../../contracts/grants.ts';
import type { Run } from '../../contracts/runs.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Disposable } from '../disposable.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
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
  /** What a standing grant of it would match (issue 22); absent when it cannot be one. */
  grant_basis?: GrantBasis;
};

/** Makes standing grants of approvals as they are approved (main/runs/grant-service.ts). */
export type GrantIssuer = {
  /** Refuses (and audits) a grant policy never allows, before the decision is recorded. */
  check: (approval: Approval, request: GrantRequest, ctx: ActorContext) => Promise<void>;
  /** Makes the grant inside the decision's transaction; a throw undoes the decision. */
  issueIn: (
    tx: ChainTx,
    approval: Approval,
    request: GrantRequest,
    ctx: ActorContext,
  ) => Promise<Grant>;
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
  /** The packs whose `approval_timeout_ms` sets when a run's approvals expire. */
  policies: PolicyPacks;
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
  #grants: GrantIssuer | undefined;

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

  /** Lets a person approve as a standing grant (`grant` on the decision); without it such a decision is refused. */
  registerGrantIssuer(issuer: GrantIssuer): Disposable {
    this.#grants = issuer;
    return {
      dispose: () => {
        if (this.#grants === issuer) this.#grants = undefined;
      },
    };
  }

  /**
   * Closes a run's pending approvals when the run ends (state `expired`, with the run's end as
   * the reason), in the transaction that ends it: nobody can decide them any more, and they
   * must not sit in the inbox forever. Decision effects run as for a refusal.
   */
  registerRunEndExpiry(): Disposable {
    return this.#deps.runs.registerRunEndHook(async (tx, run, ctx) => {
      const pending = await tx.db
        .selectFrom('approvals')
        .selectAll()
        .where('run_id', '=', run.id)
        .where('state', '=', 'pending')
        .execute();
      const why = `run ${run.state}${run.state_reason === null ? '' : `: ${run.state_reason}`}`;
      for (const row of pending)
        await this.expireIn(tx, this.#fromRow(row), why.slice(0, 2000), ctx);
    });
  }

  /**
   * Closes one pending approval without a decision: `expired` is a refusal, never a grant.
   * Recorded as an `approval.decision` (decision `expire`) by whoever closed it.
   */
  async expireIn(
    tx: ChainTx,
    approval: Approval,
    reason: string,
    ctx: ActorContext,
  ): Promise<Approval> {
    const after: Approval = {
      ...approval,
      state: 'expired',
      expires_in_ms: null,
      decided_by: ctx.actor,
      reason,
      decided_at: this.#deps.clock.now().toISOString(),
    };
    await tx.db
      .updateTable('approvals')
      .set({
        state: after.state,
        decided_by: after.decided_by,
        reason: after.reason,
        decided_at: after.decided_at,
      })
      .where('id', '=', approval.id)
      .where('state', '=', 'pending')
      .execute();
    await tx.append({
      event_type: 'approval.decision',
      ...auditedBy(ctx),
      run_id: approval.run_id,
      step_id: approval.step_id,
      data: {
        approval_id: approval.id,
        kind: approval.kind,
        decision: 'expire',
        state: after.state,
        reason,
      },
    });
    await this.#effects.get(approval.kind)?.(tx, after, ctx);
    return after;
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
    return rows.map((r) => this.#fromRow(r));
  }

  /**
   * The newest approval still waiting for a person on exactly this call: an MCP client that
   * re-issues a waiting call waits on it again instead of asking a second time (issue 25).
   */
  async findPending(runId: string, matchKey: string): Promise<Approval | undefined> {
    const row = await this.#deps.db
      .selectFrom('approvals')
      .selectAll()
      .where('run_id', '=', runId)
      .where('match_key', '=', matchKey)
      .where('state', '=', 'pending')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row === undefined ? undefined : this.#fromRow(row);
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
    const current = await this.#deps.runs.getIn(tx, request.run_id);
    // An external run (an MCP session's) keeps running: only the call that asked waits, its
    // client's other calls go on (issue 25).
    if (current.driver === 'external') return { approval, run: current };
    const run = await this.#deps.runs.transitionIn(tx, request.run_id, 'paused_approval', {
      ...ctx,
      reason: `waiting for ${request.kind} approval ${approval.id}`,
    });
    return { approval, run };
  }

  /** Records a request inside a caller's transaction. */
  async requestIn(tx: ChainTx, request: ApprovalRequest, ctx: ActorContext): Promise<Approval> {
    const { match_key: matchKey, rule_id: ruleId, grant_basis: basis, ...shown } = request;
    const run = await this.#deps.runs.getIn(tx, request.run_id);
    const timeout = this.#deps.policies.forRun(run).approval_timeout_ms;
    const now = this.#deps.clock.now();
    const approval: Approval = {
      id: newId('apr'),
      ...shown,
      state: 'pending',
      decided_by: null,
      reason: null,
      created_at: now.toISOString(),
      decided_at: null,
      answer: null,
      consumed_at: null,
      expires_at: timeout === undefined ? null : new Date(now.getTime() + timeout).toISOString(),
      expires_in_ms: timeout ?? null,
    };
    await tx.db
      .insertInto('approvals')
      .values({
        ...toRow(approval),
        match_key: matchKey ?? null,
        grant_basis: basis === undefined ? null : JSON.stringify(basis),
      })
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
        ...(approval.expires_at === null ? {} : { expires_at: approval.expires_at }),
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
    return this.#fromRow(row);
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
    return (await q.execute()).map((r) => this.#fromRow(r));
  }

  /**
   * Decides a pending approval exactly once; a replayed or duplicate decision is a
   * CONFLICT and changes nothing. When the run was paused on it and nothing else is
   * pending for that run, the run is queued to resume (a denial too: the agent is told).
   */
  async decide(
    id: string,
    input: ApprovalDecisionInput,
    ctx: ActorContext,
  ): Promise<{ approval: Approval; run: Run; grant?: Grant }> {
    const asked = input.decision === 'approve' ? input.grant : undefined;
    const grants = this.#grants;
    if (asked !== undefined) {
      if (grants === undefined)
        throw new AppError('GRANT_NOT_ALLOWED', 'this host makes no standing grants');
      const current = await this.get(id);
      // A decided one is refused as a CONFLICT below; only a live question is judged.
      if (current.state === 'pending') await grants.check(current, asked, ctx);
    }
    return this.#deps.chain.transact(async (tx) => {
      const row = await tx.db
        .selectFrom('approvals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined) throw new AppError('NOT_FOUND', `approval ${id} not found`);
      const before = this.#fromRow(row);
      if (before.state !== 'pending') {
        throw new AppError(
          'CONFLICT',
          `approval ${id} was already decided (${before.state}); a decision is final`,
          {
            state: before.state,
          },
        );
      }
      if (before.expires_in_ms === 0) {
        throw new AppError(
          'CONFLICT',
          `approval ${id} expired at ${before.expires_at ?? '?'} without a decision; it counts as refused`,
          { state: 'expired' },
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
        expires_in_ms: null,
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
      const grant =
        asked === undefined || grants === undefined
          ? undefined
          : await grants.issueIn(tx, after, asked, ctx);
      const resumed = await this.#resumeIfClearIn(tx, run, `approval ${id} ${after.state}`, ctx);
      return { approval: after, run: resumed, ...(grant === undefined ? {} : { grant }) };
    });
  }

  /**
   * Expires every pending approval whose time is up (each in its own transaction) and queues
   * its run to resume, so the agent is told the call was refused. Returns how many expired.
   */
  async expireDue(ctx: ActorContext): Promise<number> {
    const due = await this.#deps.db
      .selectFrom('approvals')
      .select('id')
      .where('state', '=', 'pending')
      .where('expires_at', '<=', this.#deps.clock.now().toISOString())
      .orderBy('expires_at')
      .limit(1000)
      .execute();
    let expired = 0;
    for (const { id } of due) {
      const done = await this.#deps.chain.transact(async (tx) => {
        const row = await tx.db
          .selectFrom('approvals')
          .selectAll()
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        // Decided (or expired by its run's end) since the query: nothing left to do.
        if (row === undefined) return false;
        const approval = this.#fromRow(row);
        const waited = Math.round(
          (Date.parse(approval.expires_at ?? approval.created_at) -
            Date.parse(approval.created_at)) /
            1000,
        );
        await this.expireIn(tx, approval, `no decision within ${waited} s`, ctx);
        const run = await this.#deps.runs.getIn(tx, approval.run_id);
        if (!isTerminal(run.state))
          await this.#resumeIfClearIn(tx, run, `approval ${id} expired`, ctx);
        return true;
      });
      if (done) expired += 1;
    }
    return expired;
  }

  /** When the next pending approval expires, or null when none will. */
  async nextExpiry(): Promise<Date | null> {
    const row = await this.#deps.db
      .selectFrom('approvals')
      .select((eb) => eb.fn.min('expires_at').as('at'))
      .where('state', '=', 'pending')
      .executeTakeFirst();
    const at = row?.at ?? null;
    return at === null ? null : new Date(at);
  }

  /** A run paused on approvals resumes once none of them is pending any more (a refusal too: the agent is told). */
  async #resumeIfClearIn(tx: ChainTx, run: Run, reason: string, ctx: ActorContext): Promise<Run> {
    const stillPending = await tx.db
      .selectFrom('approvals')
      .select('id')
      .where('run_id', '=', run.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (run.state !== 'paused_approval' || stillPending !== undefined) return run;
    return this.#deps.runs.transitionIn(tx, run.id, 'pending', {
      ...ctx,
      reason,
      trigger: 'approval_decision',
    });
  }

  /** A stored approval as callers see it, with the time it has left as of now. */
  #fromRow(row: ApprovalsTable): Approval {
    const left =
      row.state !== 'pending' || row.expires_at === null
        ? null
        : Math.max(0, Date.parse(row.expires_at) - this.#deps.clock.now().getTime());
    return fromRow(row, left);
  }
}

function toRow(a: Approval): Omit<ApprovalsTable, 'match_key' | 'grant_basis'> {
  // The time left is computed on reading, never stored.
  const stored: Omit<Approval, 'expires_in_ms'> & { expires_in_ms?: unknown } = { ...a };
  delete stored.expires_in_ms;
  return {
    ...stored,
    permission_diff: JSON.stringify(a.permission_diff),
    request: JSON.stringify(a.request),
    answer: a.answer === null ? null : JSON.stringify(a.answer),
  };
}

function fromRow(row: ApprovalsTable, expiresInMs: number | null): Approval {
  // match_key and grant_basis are internal: the strict schema would refuse them.
  const shown: Omit<ApprovalsTable, 'match_key' | 'grant_basis'> & {
    match_key?: unknown;
    grant_basis?: unknown;
  } = { ...row };
  delete shown.match_key;
  delete shown.grant_basis;
  return approvalSchema.parse({
    ...shown,
    answer: row.answer === null ? null : (JSON.parse(row.answer) as unknown),
    permission_diff: JSON.parse(row.permission_diff) as unknown,
    request: JSON.parse(row.request) as unknown,
    expires_in_ms: expiresInMs,
  });
}
