import {
  EMPTY_USAGE,
  budgetSchema,
  type BudgetCaps,
  type CreateRunInput,
  type Run,
  type RunDriver,
} from '../../contracts/runs.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError, BugError, invalidInput } from '../errors.ts';
import { resolveBudget, type PolicyPacks } from '../policy/policy-packs.ts';
import { clampBudget } from './budget-clamp.ts';
import { runToRow } from './run-rows.ts';
import type { SessionService } from './session-service.ts';

export type CreateRunContext = ActorContext & {
  origin?: 'ui' | 'api' | 'connector';
  /** The ended run this one continues (`POST /v1/runs/{id}/continue`). */
  parent_run_id?: string;
  /**
   * Set for a non-admin caller: its connector record's caps. The budget is then lowered to
   * them and to the pack's defaults, and each lowered limit is kept on the run.
   */
  budget_caps?: BudgetCaps;
  /** `external` for a run an MCP session drives (issue 25); `worker` when absent. */
  driver?: RunDriver;
};

export type RunCreationDeps = {
  clock: Clock;
  policies: PolicyPacks;
  sessions: SessionService;
  /** See `RunServiceDeps.redactText`. */
  redactText?: (text: string) => string;
};

/**
 * Makes a pending run: its budget under the pack (and the caller's caps), its session, its
 * goals, the pack version it is held to, and its `run.created` entry, all in one transaction.
 */
export class RunCreation {
  readonly #deps: RunCreationDeps;
  /**
   * Pack versions whose content has committed to `policy_pack_versions` (rows are never
   * deleted): a run created under one of them needs no insert, one statement fewer on every
   * run a schedule starts.
   */
  readonly #pinnedVersions = new Set<string>();
  /** Versions inserted by a transaction still open (a batch of fires creates many runs). */
  readonly #pinningIn = new WeakMap<object, Set<string>>();

  constructor(deps: RunCreationDeps) {
    this.#deps = deps;
  }

  /** Creates a pending run in a new or given session; SESSION_BUSY if that session is busy. */
  async createIn(tx: ChainTx, input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    const pack = this.#deps.policies.get(input.policy_pack ?? 'default');
    const clamped =
      ctx.budget_caps === undefined
        ? { budget: input.budget, clamps: [] }
        : clampBudget(input.budget, pack, ctx.budget_caps);
    // Every edge parses its input, but a run's row is read back through `budgetSchema`: a
    // budget above a ceiling written by an in-process caller would make the run unreadable.
    const resolved = budgetSchema.safeParse(resolveBudget(clamped.budget, pack));
    if (!resolved.success) throw invalidInput('budget', resolved.error.issues);
    const budget = resolved.data;
    const now = this.#deps.clock.now().toISOString();
    const sessionId = await this.#claimSession(tx, input.session_id, ctx);
    const redact = this.#deps.redactText ?? ((text: string) => text);
    const run: Run = {
      id: newId('run'),
      session_id: sessionId,
      goal: redact(input.goal),
      state: 'pending',
      state_reason: null,
      budget,
      budget_clamps: clamped.clamps,
      usage: EMPTY_USAGE,
      policy_pack: pack.id,
      policy_pack_version: pack.version,
      completion: input.completion ?? null,
      parent_run_id: ctx.parent_run_id ?? null,
      waiting_for: null,
      not_before: null,
      driver: ctx.driver ?? 'worker',
      created_by: ctx.actor,
      created_at: now,
      updated_at: now,
    };
    await this.#pinPackVersion(tx, pack.version, now);
    await tx.db.insertInto('runs').values(runToRow(run)).execute();
    const goals = [
      { text: run.goal, predicate: input.completion },
      ...(input.subgoals ?? []).map((g) => ({ ...g, text: redact(g.text) })),
    ];
    await tx.db
      .insertInto('goals')
      .values(
        goals.map((g, ordinal) => ({
          run_id: run.id,
          ordinal,
          text: g.text,
          predicate: g.predicate === undefined ? null : JSON.stringify(g.predicate),
          state: 'open',
        })),
      )
      .execute();
    await tx.append({
      event_type: 'run.created',
      ...auditedBy(ctx),
      session_id: sessionId,
      run_id: run.id,
      policy_pack_version: pack.version,
      data: {
        state: run.state,
        budget,
        ...(clamped.clamps.length === 0 ? {} : { budget_clamps: clamped.clamps }),
        completion: run.completion,
        goals: goals.length,
        ...(run.parent_run_id === null ? {} : { parent_run_id: run.parent_run_id }),
        ...(run.driver === 'worker' ? {} : { driver: run.driver }),
      },
    });
    return run;
  }

  /**
   * Stores the content of the pack version a run is created under, once per version, in the
   * run's transaction: after a restart the run is held to it even if its file changed.
   */
  async #pinPackVersion(tx: ChainTx, version: string, now: string): Promise<void> {
    if (this.#pinnedVersions.has(version) || this.#pinningIn.get(tx.db)?.has(version)) return;
    const authored = this.#deps.policies.authoredOf(version);
    if (authored === undefined) throw new BugError(`no content for pack version ${version}`);
    await tx.db
      .insertInto('policy_pack_versions')
      .values({ version, pack_id: authored.id, content: JSON.stringify(authored), created_at: now })
      .onConflict((oc) => oc.column('version').doNothing())
      .execute();
    const pinning = this.#pinningIn.get(tx.db) ?? new Set<string>();
    if (pinning.size === 0) this.#pinningIn.set(tx.db, pinning);
    pinning.add(version);
    tx.afterCommit(() => this.#pinnedVersions.add(version));
  }

  async #claimSession(
    tx: ChainTx,
    sessionId: string | undefined,
    ctx: CreateRunContext,
  ): Promise<string> {
    if (sessionId === undefined) {
      return (await this.#deps.sessions.createIn(tx, ctx.origin ?? 'api', ctx)).id;
    }
    const session = await this.#deps.sessions.getIn(tx, sessionId);
    if (session.state !== 'active') {
      throw new AppError(
        'CONFLICT',
        `session ${sessionId} is ${session.state}; runs need an active session`,
      );
    }
    if (session.active_run_id !== null) {
      throw new AppError(
        'SESSION_BUSY',
        `session ${sessionId} already has an active run (${session.active_run_id}); cancel it or wait for it to end`,
        { active_run_id: session.active_run_id },
      );
    }
    return sessionId;
  }
}
