import { sql } from 'kysely';
import type { AgentLimitsInput, AgentsStatus, PauseAgentsInput } from '../../contracts/agents.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/schema.ts';

type Paused = { reason: string | null; by: string; at: string };
type Limits = { max_concurrent_runs: number | null; max_tokens_per_day: number | null };

/** Why pending runs do not start, as a run shows it (`state_reason`, `waiting_for`). */
export type HoldNote = { state_reason: string; waiting_for: string };

const PAUSED_KEY = 'agents.paused';
const LIMITS_KEY = 'agents.limits';
const DAY_MS = 24 * 60 * 60 * 1000;

export type HostControlsDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  /** The start-up setting (`CCOS_MAX_CONCURRENT_AGENTS`): a cap set here can only lower it. */
  maxConcurrent: number;
};

/**
 * The host-wide kill switch and caps (`ccos agents pause|resume|limits`). Settings live in
 * `host_settings`, so a paused fleet stays paused across a restart; each change is a chain
 * entry (`policy.decision`, rule `host.agents.*`). Today's token count is read from the chain
 * at start and kept in memory after that (one host owns the database: the data-dir lock).
 */
export class HostControls {
  readonly #deps: HostControlsDeps;
  #paused: Paused | null = null;
  #limits: Limits = { max_concurrent_runs: null, max_tokens_per_day: null };
  #dayStart = 0;
  #tokensToday = 0;
  #running = 0;

  constructor(deps: HostControlsDeps) {
    this.#deps = deps;
  }

  /** Reads the settings and today's token use; call once at start. */
  async load(): Promise<this> {
    const rows = await this.#deps.db.selectFrom('host_settings').selectAll().execute();
    for (const row of rows) {
      if (row.key === PAUSED_KEY) this.#paused = JSON.parse(row.value) as Paused | null;
      if (row.key === LIMITS_KEY) this.#limits = JSON.parse(row.value) as Limits;
    }
    this.#dayStart = dayStartOf(this.#deps.clock.now().getTime());
    const used = await this.#deps.db
      .selectFrom('chain')
      .select(
        sql<number | bigint>`coalesce(sum(coalesce(json_extract(data, '$.usage.input_tokens'), 0) + coalesce(json_extract(data, '$.usage.output_tokens'), 0)), 0)`.as(
          'n',
        ),
      )
      .where('event_type', '=', 'llm.call')
      .where('timestamp', '>=', new Date(this.#dayStart).toISOString())
      .executeTakeFirstOrThrow();
    this.#tokensToday = Number(used.n);
    return this;
  }

  get paused(): boolean {
    return this.#paused !== null;
  }

  /** Segments that may run at once: the start-up setting, lowered by a cap set here. */
  get maxConcurrent(): number {
    return Math.min(this.#deps.maxConcurrent, this.#limits.max_concurrent_runs ?? Infinity);
  }

  /** Tokens all runs may still use today (Infinity without a daily cap). */
  tokensLeftToday(): number {
    this.#rollDay();
    const cap = this.#limits.max_tokens_per_day;
    return cap === null ? Infinity : Math.max(0, cap - this.#tokensToday);
  }

  /** Counts tokens a run was charged toward today's host-wide total. */
  chargeTokens(tokens: number): void {
    this.#rollDay();
    this.#tokensToday += tokens;
  }

  /** The supervisor reports how many segments run now (for status and the slot reason). */
  setRunning(n: number): void {
    this.#running = n;
  }

  /** When today's token count starts again from zero (UTC midnight). */
  nextDayStart(): Date {
    this.#rollDay();
    return new Date(this.#dayStart + DAY_MS);
  }

  /**
   * Why no pending run starts now, or undefined: the switch is off, or today's tokens are
   * spent. Each says what lifts it.
   */
  holdNote(): HoldNote | undefined {
    const p = this.#paused;
    if (p !== null) {
      return {
        state_reason: `agents_paused: ${p.by} paused all agents at ${p.at}${p.reason === null ? '' : ` (${p.reason})`}; \`ccos agents resume\` lets runs start again`,
        waiting_for: 'agents_resume',
      };
    }
    if (this.tokensLeftToday() === 0) {
      return {
        state_reason: `tokens_per_day: the host used ${this.#tokensToday} of its ${String(this.#limits.max_tokens_per_day)} tokens today; runs start again at ${this.nextDayStart().toISOString()} (or raise the cap: \`ccos agents limits --max-tokens-per-day N\`)`,
        waiting_for: 'tokens_per_day',
      };
    }
    return undefined;
  }

  /** Why a pending run waits although nothing holds the host: every slot is taken. */
  slotNote(): HoldNote | undefined {
    if (this.#running < this.maxConcurrent) return undefined;
    return {
      state_reason: `waiting for a free slot: ${this.#running} of ${this.maxConcurrent} runs are running (max_concurrent_runs)`,
      waiting_for: 'run_slot',
    };
  }

  status(): AgentsStatus {
    this.#rollDay();
    return {
      paused: this.#paused !== null,
      paused_reason: this.#paused?.reason ?? null,
      paused_by: this.#paused?.by ?? null,
      paused_at: this.#paused?.at ?? null,
      max_concurrent_runs: this.#limits.max_concurrent_runs,
      max_tokens_per_day: this.#limits.max_tokens_per_day,
      tokens_today: this.#tokensToday,
      day_started_at: new Date(this.#dayStart).toISOString(),
      day_resets_at: new Date(this.#dayStart + DAY_MS).toISOString(),
      running: this.#running,
    };
  }

  async pause(input: PauseAgentsInput, ctx: ActorContext): Promise<AgentsStatus> {
    const paused: Paused = {
      reason: input.reason ?? null,
      by: ctx.actor,
      at: this.#deps.clock.now().toISOString(),
    };
    await this.#save(
      PAUSED_KEY,
      paused,
      'host.agents.pause',
      { reason: paused.reason },
      ctx,
      () => {
        this.#paused = paused;
      },
    );
    return this.status();
  }

  async resume(ctx: ActorContext): Promise<AgentsStatus> {
    await this.#save(PAUSED_KEY, null, 'host.agents.resume', {}, ctx, () => {
      this.#paused = null;
    });
    return this.status();
  }

  async setLimits(input: AgentLimitsInput, ctx: ActorContext): Promise<AgentsStatus> {
    const limits: Limits = {
      max_concurrent_runs:
        input.max_concurrent_runs === undefined
          ? this.#limits.max_concurrent_runs
          : input.max_concurrent_runs,
      max_tokens_per_day:
        input.max_tokens_per_day === undefined
          ? this.#limits.max_tokens_per_day
          : input.max_tokens_per_day,
    };
    await this.#save(LIMITS_KEY, limits, 'host.agents.limits', { ...limits }, ctx, () => {
      this.#limits = limits;
    });
    return this.status();
  }

  /**
   * Writes a setting and its chain entry together, and `apply`s it in memory before the
   * commit: the supervisor wakes on the entry (synchronously, as it commits) and must already
   * see the new setting. A failed write restores the old one.
   */
  async #save(
    key: string,
    value: unknown,
    rule: string,
    data: Record<string, unknown>,
    ctx: ActorContext,
    apply: () => void,
  ): Promise<void> {
    const now = this.#deps.clock.now().toISOString();
    const text = JSON.stringify(value);
    const before = { paused: this.#paused, limits: this.#limits };
    try {
      await this.#write(key, text, now, rule, data, ctx, apply);
    } catch (e) {
      this.#paused = before.paused;
      this.#limits = before.limits;
      throw e;
    }
  }

  async #write(
    key: string,
    text: string,
    now: string,
    rule: string,
    data: Record<string, unknown>,
    ctx: ActorContext,
    apply: () => void,
  ): Promise<void> {
    await this.#deps.chain.transact(async (tx) => {
      await tx.db
        .insertInto('host_settings')
        .values({ key, value: text, updated_at: now, updated_by: ctx.actor })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ value: text, updated_at: now, updated_by: ctx.actor }),
        )
        .execute();
      await tx.append({
        event_type: 'policy.decision',
        ...auditedBy(ctx),
        rule_id: rule,
        data: { decision: rule.slice('host.agents.'.length), ...data },
      });
      apply();
    });
  }

  #rollDay(): void {
    const today = dayStartOf(this.#deps.clock.now().getTime());
    if (today !== this.#dayStart) {
      this.#dayStart = today;
      this.#tokensToday = 0;
    }
  }
}

function dayStartOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
