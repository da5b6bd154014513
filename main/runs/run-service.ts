import {
  EMPTY_USAGE,
  TERMINAL_STATES,
  budgetClampSchema,
  budgetSchema,
  completionPredicateSchema,
  goalSchema,
  runFailureSchema,
  runSchema,
  stepSchema,
  usageSchema,
  type BudgetCaps,
  type CreateRunInput,
  type Goal,
  type ResumeTrigger,
  type Run,
  type RunEventInput,
  type RunDriver,
  type RunFailure,
  type RunState,
  type Step,
  type Usage,
} from '../../contracts/runs.ts';
import type { ChainTx, CausalChain } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError, BugError } from '../errors.ts';
import { resolveBudget, type PolicyPacks } from '../policy/policy-packs.ts';
import { sql, type Kysely } from 'kysely';
import type { Database, Db, RunsTable } from '../store/schema.ts';
import type { SessionService } from './session-service.ts';
import type { Disposable } from '../disposable.ts';
import { assertTransition, isTerminal } from './transitions.ts';
import { clampBudget } from './budget-clamp.ts';
import { z } from 'zod';
import { auditedBy, type ActorContext } from '../actor-context.ts';

export type TransitionOptions = ActorContext & {
  reason?: string | null;
  /** Why a paused or pending run is running again; recorded on the chain entry. */
  trigger?: ResumeTrigger;
  /** New usage, when the transition also meters something (e.g. a retry). */
  usage?: Usage;
  /**
   * For `paused_external_event`: the event type that resumes the run; for `paused_schedule`:
   * the instant (or `schedule:<id>`) it waits for.
   */
  waiting_for?: string;
  /** For `pending`: not started before this instant (an LLM backoff); cleared by any other transition. */
  not_before?: Date;
};

/**
 * Called inside the transaction that moves a run to a terminal state, so what belongs to the
 * run (its pending approvals) closes with it; a throw undoes the transition.
 */
export type RunEndHook = (tx: ChainTx, run: Run, ctx: ActorContext) => Promise<void>;

/** See `RunServiceDeps.pendingNote`. */
export type PendingNote = { state_reason: string; waiting_for: string; replaces: boolean };

export type ListRunsQuery = {
  state?: RunState;
  session_id?: string;
  created_by?: string;
  limit?: number;
  /** Paging: runs created before this run id's position (ids are listed newest first). */
  before?: string;
};

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

/** The `SecretStore.keyedHash` purpose of stored `Idempotency-Key`s. */
export const IDEMPOTENCY_KEY_PURPOSE = 'idempotency-key';

export type IdempotencyRequest = {
  /** Who sent the key: keys are private to their sender. */
  principal: string;
  /** The key as stored: its keyed hash (`SecretStore.keyedHash`), never the key itself. */
  key: string;
  /** Hash of the canonical request body. */
  request_hash: string;
};

export type RecoveryOutcome = { run_id: string; outcome: 'resumable' | 'failed' | 'ended' };

/** Why an external run ends when its MCP session closes, idles out, or is lost to a restart. */
export const MCP_SESSION_CLOSED = 'mcp_session_closed';

export type RunServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  policies: PolicyPacks;
  sessions: SessionService;
  /**
   * Applied to goal texts before they are stored: a secret a person pasted into a goal is
   * redacted on write like everywhere else (ARCHITECTURE.md §10).
   */
  redactText?: (text: string) => string;
  /**
   * Why a pending run is not started now (no LLM provider, agents paused, the day's tokens
   * spent, every slot taken): what it shows as `waiting_for` and `state_reason`, so a person
   * sees why it does not move. Applied where runs leave this service, never stored: it holds
   * only while the host is so. `replaces: true` wins over the run's own reason (a hold a
   * person set); otherwise the run's own reason, if any, stays.
   */
  pendingNote?: () => PendingNote | undefined;
};

/**
 * Runs and their state machine. Every state change and its chain entry commit in one
 * transaction, so the database never holds a state the chain does not explain.
 */
export class RunService {
  readonly #deps: RunServiceDeps;
  readonly #endHooks = new Set<RunEndHook>();
  /**
   * Pack versions whose content has committed to `policy_pack_versions` (rows are never
   * deleted): a run created under one of them needs no insert, one statement fewer on every
   * run a schedule starts.
   */
  readonly #pinnedVersions = new Set<string>();
  /** Versions inserted by a transaction still open (a batch of fires creates many runs). */
  readonly #pinningIn = new WeakMap<object, Set<string>>();

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
  }

  /** Runs `hook` whenever a run ends (see `RunEndHook`). */
  registerRunEndHook(hook: RunEndHook): Disposable {
    this.#endHooks.add(hook);
    return { dispose: () => void this.#endHooks.delete(hook) };
  }

  /** Creates a pending run (its kickoff) in a new or given session; 409 if that session is busy. */
  async create(input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    return this.#present(await this.#deps.chain.transact((tx) => this.#createIn(tx, input, ctx)));
  }

  /**
   * `create` under an `Idempotency-Key`: the same key and request from the same principal
   * return the first run (`replayed: true`) without creating another; the same key with a
   * different request is IDEMPOTENCY_CONFLICT. Key and run commit together.
   */
  async createIdempotent(
    input: CreateRunInput,
    ctx: CreateRunContext,
    idempotency: IdempotencyRequest,
  ): Promise<{ run: Run; replayed: boolean }> {
    const result = await this.#deps.chain.transact(async (tx) => {
      const seen = await tx.db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'run_id'])
        .where('principal', '=', idempotency.principal)
        .where('key', '=', idempotency.key)
        .executeTakeFirst();
      if (seen !== undefined) {
        if (seen.request_hash !== idempotency.request_hash) {
          throw new AppError(
            'IDEMPOTENCY_CONFLICT',
            'this Idempotency-Key was already used with a different request; use a new key for a new run',
            { run_id: seen.run_id },
          );
        }
        return { run: await readRun(tx.db, seen.run_id), replayed: true };
      }
      const run = await this.#createIn(tx, input, ctx);
      await tx.db
        .insertInto('idempotency_keys')
        .values({ ...idempotency, run_id: run.id, created_at: run.created_at })
        .execute();
      return { run, replayed: false };
    });
    return { ...result, run: this.#present(result.run) };
  }

  /**
   * Replaces keys stored in plain by an earlier version with their keyed hash (`hash`), so
   * a caller's key is on disk nowhere and still matches when the caller retries. Rows whose
   * key already starts with `hashedPrefix` are left alone. Returns how many were changed.
   */
  async hashPlainIdempotencyKeys(
    hash: (key: string) => string,
    hashedPrefix: string,
  ): Promise<number> {
    return this.#deps.chain.transact(async (tx) => {
      const plain = await tx.db
        .selectFrom('idempotency_keys')
        .select(['principal', 'key'])
        .where('key', 'not like', `${hashedPrefix}%`)
        .execute();
      for (const row of plain) {
        await tx.db
          .updateTable('idempotency_keys')
          .set({ key: hash(row.key) })
          .where('principal', '=', row.principal)
          .where('key', '=', row.key)
          .execute();
      }
      return plain.length;
    });
  }

  /** Creates a run inside a caller's transaction (the host's own runs, e.g. a skill's setup). */
  createIn(tx: ChainTx, input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    return this.#createIn(tx, input, ctx);
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

  async #createIn(tx: ChainTx, input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    const pack = this.#deps.policies.get(input.policy_pack ?? 'default');
    const clamped =
      ctx.budget_caps === undefined
        ? { budget: input.budget, clamps: [] }
        : clampBudget(input.budget, pack, ctx.budget_caps);
    const budget = resolveBudget(clamped.budget, pack);
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
    await tx.db.insertInto('runs').values(toRow(run)).execute();
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

  async get(id: string): Promise<Run> {
    return this.#present(await readRun(this.#deps.db, id));
  }

  /** `get` inside a caller's transaction (the store has one connection: never use `db` there). */
  getIn(tx: ChainTx, id: string): Promise<Run> {
    return readRun(tx.db, id);
  }

  async list(query: ListRunsQuery = {}): Promise<Run[]> {
    let q = this.#deps.db
      .selectFrom('runs')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(query.limit ?? 100, 1000));
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.session_id !== undefined) q = q.where('session_id', '=', query.session_id);
    if (query.created_by !== undefined) q = q.where('created_by', '=', query.created_by);
    if (query.before !== undefined) {
      const cursor = await this.get(query.before);
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', cursor.created_at),
          eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)]),
        ]),
      );
    }
    return (await q.execute()).map((row) => this.#present(fromRow(row)));
  }

  goals(runId: string): Promise<Goal[]> {
    return readGoals(this.#deps.db, runId);
  }

  /** `goals` inside a caller's transaction (the completion check reads them with the facts). */
  goalsIn(tx: ChainTx, runId: string): Promise<Goal[]> {
    return readGoals(tx.db, runId);
  }

  async steps(runId: string): Promise<Step[]> {
    const rows = await this.#deps.db
      .selectFrom('steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('started_at')
      .orderBy('step_id')
      .execute();
    return rows.map((r) =>
      stepSchema.parse({
        ...r,
        output_label: r.output_label === null ? null : (JSON.parse(r.output_label) as unknown),
      }),
    );
  }

  /**
   * The run's most recent failure from its chain: a segment that ended in a fault, or a
   * failed LLM call. Read from the chain, the record the supervisor writes in the same
   * transaction as the run's state.
   */
  async lastFailure(runId: string): Promise<RunFailure | null> {
    const row = await this.#deps.db
      .selectFrom('chain')
      .select(['event_type', 'timestamp', 'data'])
      .where('run_id', '=', runId)
      .where((eb) =>
        eb.or([
          eb.and([
            eb('event_type', '=', 'segment.ended'),
            eb(sql`json_extract(data, '$.failure')`, 'is not', null),
          ]),
          eb.and([
            eb('event_type', '=', 'llm.call'),
            eb(sql`json_extract(data, '$.outcome')`, '=', 'failed'),
          ]),
        ]),
      )
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return null;
    const data = JSON.parse(row.data) as { failure?: unknown; reason?: unknown; segment?: unknown };
    const segment = row.event_type === 'segment.ended';
    const said = segment ? data.failure : data.reason;
    return runFailureSchema.parse({
      kind: segment ? 'segment' : 'llm',
      at: row.timestamp,
      segment: typeof data.segment === 'number' ? data.segment : null,
      reason: typeof said === 'string' ? said : '',
    });
  }

  /** Moves a run to `to`, or throws ILLEGAL_TRANSITION and changes nothing. */
  async transition(runId: string, to: RunState, options: TransitionOptions): Promise<Run> {
    return this.#present(
      await this.#deps.chain.transact((tx) => this.transitionIn(tx, runId, to, options)),
    );
  }

  /**
   * A run as callers see it: a pending run that is not started now says why (`pendingNote`).
   */
  #present(run: Run): Run {
    if (run.state !== 'pending') return run;
    const note = this.#deps.pendingNote?.();
    if (note === undefined) return run;
    return {
      ...run,
      state_reason: note.replaces ? note.state_reason : (run.state_reason ?? note.state_reason),
      waiting_for: note.waiting_for,
    };
  }

  /** `transition` inside a caller's transaction, for callers that write more alongside it. */
  async transitionIn(
    tx: ChainTx,
    runId: string,
    to: RunState,
    options: TransitionOptions,
  ): Promise<Run> {
    const before = await readRun(tx.db, runId);
    const reason = options.reason ?? null;
    assertTransition(before.state, to, reason, before.driver);
    if (to === 'paused_external_event' && options.waiting_for === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        'a run waiting for an external event must name its type',
        {
          fields: [{ path: 'waiting_for', message: 'required for paused_external_event' }],
        },
      );
    }
    const now = this.#deps.clock.now().toISOString();
    const after: Run = {
      ...before,
      state: to,
      state_reason: reason,
      usage: options.usage ?? before.usage,
      waiting_for:
        to === 'paused_external_event' || to === 'paused_schedule'
          ? (options.waiting_for ?? null)
          : null,
      not_before:
        to === 'pending' && options.not_before !== undefined
          ? options.not_before.toISOString()
          : null,
      updated_at: now,
    };
    await tx.db
      .updateTable('runs')
      .set({
        state: after.state,
        state_reason: after.state_reason,
        usage: JSON.stringify(after.usage),
        waiting_for: after.waiting_for,
        not_before: after.not_before,
        updated_at: now,
      })
      .where('id', '=', runId)
      .execute();
    await tx.append({
      event_type: 'run.transition',
      actor: options.actor,
      correlation_id: options.correlation_id ?? null,
      session_id: before.session_id,
      run_id: runId,
      policy_pack_version: this.#deps.policies.forRun(before).version,
      data: {
        from: before.state,
        to,
        reason,
        ...(options.trigger === undefined ? {} : { trigger: options.trigger }),
        ...(options.usage === undefined ? {} : { usage: options.usage }),
        ...(after.waiting_for === null ? {} : { waiting_for: after.waiting_for }),
        ...(after.not_before === null ? {} : { not_before: after.not_before }),
      },
    });
    if (isTerminal(to)) {
      const ctx = { actor: options.actor, correlation_id: options.correlation_id ?? null };
      for (const hook of this.#endHooks) await hook(tx, after, ctx);
    }
    return after;
  }

  /**
   * Records an external event for a run; when the run waits for exactly this type, it is
   * queued to resume (trigger `external_event`). Other events are kept, and change nothing.
   */
  async receiveEvent(
    runId: string,
    event: RunEventInput,
    ctx: ActorContext,
  ): Promise<{ event_id: string; resumed: boolean; run: Run }> {
    const result = await this.#deps.chain.transact((tx) =>
      this.receiveEventIn(tx, runId, event, ctx),
    );
    return { ...result, run: this.#present(result.run) };
  }

  /** `receiveEvent` inside a caller's transaction (a connector message with its envelope). */
  async receiveEventIn(
    tx: ChainTx,
    runId: string,
    event: RunEventInput,
    ctx: ActorContext,
  ): Promise<{ event_id: string; resumed: boolean; run: Run }> {
    const run = await readRun(tx.db, runId);
    const id = newId('ev');
    await tx.db
      .insertInto('events')
      .values({
        id,
        run_id: runId,
        type: event.type,
        payload: JSON.stringify(event.payload ?? {}),
        source: ctx.actor,
        received_at: this.#deps.clock.now().toISOString(),
      })
      .execute();
    await tx.append({
      event_type: 'event.received',
      ...auditedBy(ctx),
      session_id: run.session_id,
      run_id: runId,
      // The payload is external data: the chain records that it came, not what it said.
      data: {
        event_id: id,
        type: event.type,
        payload_bytes: JSON.stringify(event.payload ?? {}).length,
      },
    });
    const matches = run.state === 'paused_external_event' && run.waiting_for === event.type;
    if (!matches) return { event_id: id, resumed: false, run };
    const resumed = await this.transitionIn(tx, runId, 'pending', {
      ...ctx,
      reason: `event ${event.type} received`,
      trigger: 'external_event',
    });
    return { event_id: id, resumed: true, run: resumed };
  }

  /** Cancels a non-terminal run; cancelling a finished run is ILLEGAL_TRANSITION. */
  cancel(runId: string, ctx: ActorContext, reason?: string): Promise<Run> {
    return this.transition(runId, 'cancelled', {
      ...ctx,
      reason: reason ?? `cancelled by ${ctx.actor}`,
    });
  }

  /**
   * Start-up recovery (ARCHITECTURE.md §4). Every unfinished external run (an MCP session's),
   * in any state, ends `done` with reason `mcp_session_closed`: its session lived in the dead
   * host's memory. Then a run found `running` was interrupted by a crash: it goes back to
   * `pending` to resume from its last checkpoint, counting one retry, or fails with
   * `retries_exhausted`. Each decision is its own transaction and chain entry.
   */
  async recoverInterrupted(ctx: ActorContext): Promise<RecoveryOutcome[]> {
    const outcomes = await this.#endOrphanedExternalRuns(ctx);
    outcomes.push(...(await this.#recoverRunning(ctx)));
    return outcomes;
  }

  /**
   * A host that stopped ended its sessions' runs; one that died left them `running`, or
   * paused or pending, and no client can reach them again, nor is there a worker to resume
   * them. Each ends as a closed session would (its pending approvals expire with it).
   */
  async #endOrphanedExternalRuns(ctx: ActorContext): Promise<RecoveryOutcome[]> {
    const outcomes: RecoveryOutcome[] = [];
    for (;;) {
      const orphaned = await this.#deps.db
        .selectFrom('runs')
        .select('id')
        .where('driver', '=', 'external')
        .where('state', 'not in', [...TERMINAL_STATES])
        .orderBy('id')
        .limit(1000)
        .execute();
      if (orphaned.length === 0) return outcomes;
      for (const { id } of orphaned) {
        await this.transition(id, 'done', {
          ...ctx,
          reason: `${MCP_SESSION_CLOSED}: the host restarted`,
        });
        outcomes.push({ run_id: id, outcome: 'ended' });
      }
    }
  }

  async #recoverRunning(ctx: ActorContext): Promise<RecoveryOutcome[]> {
    const interrupted = await this.list({ state: 'running', limit: 1000 });
    const outcomes: RecoveryOutcome[] = [];
    for (const run of interrupted) {
      const usage = { ...run.usage, retries: run.usage.retries + 1 };
      if (usage.retries > run.budget.max_retries) {
        await this.transition(run.id, 'failed', {
          ...ctx,
          reason: 'retries_exhausted',
          usage: run.usage,
        });
        outcomes.push({ run_id: run.id, outcome: 'failed' });
      } else {
        await this.transition(run.id, 'pending', {
          ...ctx,
          reason: 'interrupted: resumes from its last checkpoint',
          trigger: 'recovery',
          usage,
        });
        outcomes.push({ run_id: run.id, outcome: 'resumable' });
      }
    }
    // More than one page of interrupted runs: keep going until none is left running.
    if (interrupted.length === 1000) outcomes.push(...(await this.#recoverRunning(ctx)));
    return outcomes;
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

async function readGoals(db: Kysely<Database>, runId: string): Promise<Goal[]> {
  const rows = await db
    .selectFrom('goals')
    .select(['ordinal', 'text', 'predicate', 'state'])
    .where('run_id', '=', runId)
    .orderBy('ordinal')
    .execute();
  return rows.map((r) =>
    goalSchema.parse({
      ...r,
      predicate: r.predicate === null ? null : (JSON.parse(r.predicate) as unknown),
    }),
  );
}

async function readRun(db: Kysely<Database>, id: string): Promise<Run> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new AppError('NOT_FOUND', `run ${id} not found`);
  return fromRow(row);
}

function toRow(run: Run): RunsTable {
  return {
    ...run,
    budget: JSON.stringify(run.budget),
    usage: JSON.stringify(run.usage),
    completion: run.completion === null ? null : JSON.stringify(run.completion),
    budget_clamps: run.budget_clamps.length === 0 ? null : JSON.stringify(run.budget_clamps),
  };
}

const BUDGET_CLAMPS = z.array(budgetClampSchema);

function fromRow(row: RunsTable): Run {
  return runSchema.parse({
    ...row,
    budget: budgetSchema.parse(JSON.parse(row.budget)),
    usage: usageSchema.parse(JSON.parse(row.usage)),
    budget_clamps:
      row.budget_clamps === null ? [] : BUDGET_CLAMPS.parse(JSON.parse(row.budget_clamps)),
    completion:
      row.completion === null ? null : completionPredicateSchema.parse(JSON.parse(row.completion)),
  });
}
