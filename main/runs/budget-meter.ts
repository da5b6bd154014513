import type { Approval } from '../../contracts/approvals.ts';
import {
  BUDGET_CEILING,
  usageSchema,
  type BudgetKind,
  type Run,
  type Usage,
} from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { ApprovalService } from './approval-service.ts';
import type { ActorContext } from '../actor-context.ts';
import type { RunService } from './run-service.ts';
import { auditedBy } from '../actor-context.ts';
import { hasPassed } from '../instant.ts';

/** The limits in force: the immutable budget plus every approved grant. */
export type EffectiveLimits = {
  steps: number;
  tokens: number;
  wall_clock: number;
  retries: number;
};

/** What a caller is about to spend. */
export type Need = { steps?: number; tokens?: number; activeMs: number };

export type Overrun = { kind: BudgetKind; limit: number; used: number };

type GrantKind = 'steps' | 'tokens' | 'wall_clock' | 'retries';
const GRANT_SCOPE = /^(steps|tokens|wall_clock|retries):\+([1-9][0-9]{0,9})$/;
const WARN_AT = [0.5, 0.8] as const;
const CEILING_OF: Record<GrantKind, number> = {
  steps: BUDGET_CEILING.max_steps,
  tokens: BUDGET_CEILING.max_tokens,
  wall_clock: BUDGET_CEILING.max_wall_clock_ms,
  retries: BUDGET_CEILING.max_retries,
};

/**
 * Budgets, enforced by the host and never trusted to the worker (ARCHITECTURE.md §4).
 * Every call is checked before it is allowed; usage is charged from what was measured.
 * On overrun the run's policy pack decides: `hard_stop` fails the run with
 * `budget_exceeded:<kind>`, `approval` pauses it for a person to grant an extension —
 * a separate, audited grant; the run's budget itself never changes.
 */
export class BudgetMeter {
  readonly #deps: {
    clock: Clock;
    policies: PolicyPacks;
    approvals: ApprovalService;
    runs: RunService;
  };

  constructor(deps: {
    clock: Clock;
    policies: PolicyPacks;
    approvals: ApprovalService;
    runs: RunService;
  }) {
    this.#deps = deps;
  }

  async limitsIn(tx: ChainTx, run: Run): Promise<EffectiveLimits> {
    const grants = await tx.db
      .selectFrom('budget_grants')
      .select(['kind', (eb) => eb.fn.sum<number>('amount').as('total')])
      .where('run_id', '=', run.id)
      .groupBy('kind')
      .execute();
    const extra = (kind: GrantKind): number => grants.find((g) => g.kind === kind)?.total ?? 0;
    return {
      steps: run.budget.max_steps + extra('steps'),
      tokens: run.budget.max_tokens + extra('tokens'),
      wall_clock: run.budget.max_wall_clock_ms + extra('wall_clock'),
      retries: run.budget.max_retries + extra('retries'),
    };
  }

  /** The first limit that spending `need` now would break, if any. */
  async checkIn(tx: ChainTx, run: Run, need: Need): Promise<Overrun | undefined> {
    const limits = await this.limitsIn(tx, run);
    const u = run.usage;
    const now = this.#deps.clock.now();
    // Compared as instants: a deadline stored before normalisation may carry an offset.
    if (run.budget.deadline !== undefined && hasPassed(run.budget.deadline, now)) {
      return { kind: 'deadline', limit: Date.parse(run.budget.deadline), used: now.getTime() };
    }
    if (u.steps + (need.steps ?? 0) > limits.steps)
      return { kind: 'steps', limit: limits.steps, used: u.steps };
    if (u.tokens + (need.tokens ?? 0) > limits.tokens)
      return { kind: 'tokens', limit: limits.tokens, used: u.tokens };
    if (u.wall_clock_ms + need.activeMs > limits.wall_clock) {
      return {
        kind: 'wall_clock',
        limit: limits.wall_clock,
        used: u.wall_clock_ms + need.activeMs,
      };
    }
    return undefined;
  }

  /** Adds to the run's usage (and says so on the chain at 50 % and 80 % of a limit). */
  async chargeIn(
    tx: ChainTx,
    run: Run,
    delta: {
      steps?: number;
      tokens?: number;
      tokens_estimated?: boolean;
      wall_clock_ms?: number;
      retries?: number;
    },
  ): Promise<Usage> {
    const fresh = await this.#deps.runs.getIn(tx, run.id);
    const before = fresh.usage;
    const after = usageSchema.parse({
      steps: before.steps + (delta.steps ?? 0),
      tokens: before.tokens + (delta.tokens ?? 0),
      tokens_estimated: before.tokens_estimated || delta.tokens_estimated === true,
      wall_clock_ms: before.wall_clock_ms + Math.max(0, Math.round(delta.wall_clock_ms ?? 0)),
      retries: before.retries + (delta.retries ?? 0),
    });
    await tx.db
      .updateTable('runs')
      .set({ usage: JSON.stringify(after) })
      .where('id', '=', run.id)
      .execute();
    const limits = await this.limitsIn(tx, fresh);
    for (const [kind, was, now, limit] of [
      ['steps', before.steps, after.steps, limits.steps],
      ['tokens', before.tokens, after.tokens, limits.tokens],
    ] as const) {
      for (const share of WARN_AT) {
        if (was < limit * share && now >= limit * share) {
          await tx.append({
            event_type: 'budget.warning',
            actor: 'host',
            session_id: run.session_id,
            run_id: run.id,
            data: { kind, percent: share * 100, used: now, limit },
          });
        }
      }
    }
    return after;
  }

  /**
   * Applies the pack's decision for an overrun, in the caller's transaction, and returns
   * the error the caller answers with. A deadline cannot be extended: it always stops.
   */
  async overrunIn(tx: ChainTx, run: Run, over: Overrun, ctx: ActorContext): Promise<AppError> {
    const pack = this.#deps.policies.forRun(run);
    const extendable = over.kind !== 'deadline' && over.kind !== 'retries';
    // An external run cannot wait paused for an extension: its client is calling now, and
    // a session idles out. It stops, as the issue asks (`failed budget_exceeded:*`).
    const decision =
      pack.budget_on_exceed === 'approval' && extendable && run.driver === 'worker'
        ? 'approval'
        : 'hard_stop';
    await tx.append({
      event_type: 'budget.exceeded',
      ...auditedBy(ctx),
      session_id: run.session_id,
      run_id: run.id,
      rule_id: `budget.${over.kind}`,
      policy_pack_version: pack.version,
      data: { kind: over.kind, limit: over.limit, used: over.used, decision },
    });
    if (decision === 'hard_stop') {
      await this.#deps.runs.transitionIn(tx, run.id, 'failed', {
        ...ctx,
        reason: `budget_exceeded:${over.kind}`,
      });
    } else {
      const amount = proposedExtension(run, over.kind);
      await this.#deps.approvals.requestAndPauseIn(
        tx,
        {
          run_id: run.id,
          step_id: `budget:${over.kind}`,
          kind: 'budget',
          rule_id: `budget.${over.kind}`,
          scope: `${over.kind}:+${amount}`,
          justification: `the run used its ${over.kind} budget (${over.used} of ${over.limit}); approve to let it continue`,
          permission_diff: [
            { permission: `budget.${over.kind}`, from: over.limit, to: over.limit + amount },
          ],
          request: { kind: over.kind, limit: over.limit, used: over.used, extension: amount },
        },
        ctx,
      );
    }
    return new AppError(
      'BUDGET_EXCEEDED',
      `the run's ${over.kind} budget is spent (${over.used} of ${over.limit})`,
      {
        kind: over.kind,
        decision,
      },
    );
  }

  /** Turns approved budget approvals into grants (the decision and the grant commit together). */
  registerGrants(): Disposable {
    return this.#deps.approvals.registerDecisionEffect('budget', async (tx, approval, ctx) => {
      // Only a grant grants: a refusal or an expiry leaves the budget as it is.
      if (approval.state !== 'approved' && approval.state !== 'modified') return;
      const grant = parseGrant(approval);
      // A person may narrow the extension, not turn it into another kind of budget.
      const asked = (approval.request as { kind?: unknown }).kind;
      if (asked !== grant.kind) {
        throw new AppError(
          'INVALID_INPUT',
          `this approval extends the ${String(asked)} budget, not ${grant.kind}`,
          {
            fields: [{ path: 'scope', message: `must extend ${String(asked)}` }],
          },
        );
      }
      // No grant lifts a run above the hard ceilings: no run is ever unbounded.
      const run = await this.#deps.runs.getIn(tx, approval.run_id);
      const limit = (await this.limitsIn(tx, run))[grant.kind];
      const ceiling = CEILING_OF[grant.kind];
      if (limit + grant.amount > ceiling) {
        throw new AppError(
          'INVALID_INPUT',
          `granting ${grant.amount} would lift the ${grant.kind} limit above its ceiling of ${ceiling}`,
          { fields: [{ path: 'scope', message: `at most +${Math.max(0, ceiling - limit)}` }] },
        );
      }
      await tx.db
        .insertInto('budget_grants')
        .values({
          run_id: approval.run_id,
          kind: grant.kind,
          amount: grant.amount,
          approval_id: approval.id,
          granted_by: ctx.actor,
          created_at: this.#deps.clock.now().toISOString(),
        })
        .execute();
      await tx.append({
        event_type: 'budget.granted',
        ...auditedBy(ctx),
        run_id: approval.run_id,
        data: { approval_id: approval.id, kind: grant.kind, amount: grant.amount },
      });
    });
  }
}

/** A modest extension: half the original limit (at least one unit). */
function proposedExtension(run: Run, kind: BudgetKind): number {
  const base =
    kind === 'steps'
      ? run.budget.max_steps
      : kind === 'tokens'
        ? run.budget.max_tokens
        : kind === 'wall_clock'
          ? run.budget.max_wall_clock_ms
          : run.budget.max_retries;
  return Math.max(1, Math.ceil(base / 2));
}

function parseGrant(approval: Approval): { kind: GrantKind; amount: number } {
  const match = GRANT_SCOPE.exec(approval.scope);
  if (match === null) {
    throw new AppError(
      'INVALID_INPUT',
      'a budget grant scope reads "<kind>:+<amount>", e.g. "steps:+20"',
      {
        fields: [
          {
            path: 'scope',
            message: 'expected steps|tokens|wall_clock|retries:+<positive integer>',
          },
        ],
      },
    );
  }
  return { kind: match[1] as GrantKind, amount: Number(match[2]) };
}
