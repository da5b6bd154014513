import { policyPackSchema, type PolicyPack } from '../../contracts/policy.ts';
import type { Budget, BudgetRequest } from '../../contracts/runs.ts';
import { AppError, invalidInput } from '../errors.ts';
import { toUtcInstant } from '../instant.ts';

/** The pack every run gets unless it names another. Conservative: a runaway run stops. */
export const DEFAULT_POLICY_PACK: PolicyPack = {
  id: 'default',
  version: '1',
  default_budget: {
    max_steps: 50,
    max_wall_clock_ms: 30 * 60 * 1000,
    max_tokens: 200_000,
    max_retries: 3,
  },
  budget_on_exceed: 'hard_stop',
  segment_max_steps: 10,
  segment_max_ms: 5 * 60 * 1000,
  worker_start_timeout_ms: 60_000,
  worker_silence_timeout_ms: 120_000,
  autofill_sources: ['run.goal', 'run.id', 'memory:profile.*'],
  // Anything that leaves the machine or changes stored state asks the person first.
  approval_capabilities: ['net.http', 'memory.write'],
  // Every skill document fetch by an agent asks first (the URL is shown before it is sent).
  skill_document_origins: [],
};

/** The policy packs a host knows, by id. Constructed by the host, not a global. */
export class PolicyPacks {
  readonly #packs: ReadonlyMap<string, PolicyPack>;

  constructor(packs: readonly PolicyPack[] = [DEFAULT_POLICY_PACK]) {
    // Packs come from settings: parse them like any other edge, so a bad pack stops start-up.
    this.#packs = new Map(
      packs.map((p) => {
        const parsed = policyPackSchema.safeParse(p);
        if (!parsed.success) throw invalidInput(`policy pack "${p.id}"`, parsed.error.issues);
        const { segment_max_checkpoints: checkpoints, segment_max_steps: steps } = parsed.data;
        // A worker checkpoints after each step and at the end: a lower quota fails healthy runs.
        if (checkpoints !== undefined && checkpoints <= steps) {
          throw invalidInput(`policy pack "${p.id}"`, [
            {
              path: ['segment_max_checkpoints'],
              message: `must be more than segment_max_steps (${steps})`,
            },
          ]);
        }
        return [parsed.data.id, parsed.data];
      }),
    );
  }

  /** The version of a pack, or undefined for an id no longer configured. */
  versionOf(id: string): string | undefined {
    return this.#packs.get(id)?.version;
  }

  get(id: string): PolicyPack {
    const pack = this.#packs.get(id);
    if (pack === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        `unknown policy pack "${id}"; known: ${[...this.#packs.keys()].join(', ')}`,
        {
          fields: [{ path: 'policy_pack', message: `unknown policy pack "${id}"` }],
        },
      );
    }
    return pack;
  }
}

/** Fills every missing limit from the pack; limits were already checked against the ceilings. */
export function resolveBudget(request: BudgetRequest | undefined, pack: PolicyPack): Budget {
  const d = pack.default_budget;
  return {
    max_steps: request?.max_steps ?? d.max_steps,
    max_wall_clock_ms: request?.max_wall_clock_ms ?? d.max_wall_clock_ms,
    max_tokens: request?.max_tokens ?? d.max_tokens,
    max_retries: request?.max_retries ?? d.max_retries,
    // Stored in UTC, so the run shows (and every reader compares) one form of the instant.
    ...(request?.deadline === undefined ? {} : { deadline: toUtcInstant(request.deadline) }),
  };
}
