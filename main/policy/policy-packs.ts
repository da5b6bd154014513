import {
  policyPackSchema,
  type PolicyPack,
  type PolicyPackSource,
  type PolicyPackSummary,
} from '../../contracts/policy.ts';
import type { Budget, BudgetRequest } from '../../contracts/runs.ts';
import { AppError, invalidInput } from '../errors.ts';
import { toUtcInstant } from '../instant.ts';
import {
  CONTRACT_ACTIVATION_RULES,
  CONTRACT_EGRESS_EXCEPTIONS,
  CONTRACT_LABEL_RULES,
} from './contract-rules.ts';
import { packConsistencyIssues } from './pack-consistency.ts';
import { stampedVersionOf } from './pack-version.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The pack every run gets unless it names another. Conservative: a runaway run stops. */
export const DEFAULT_POLICY_PACK: PolicyPack = {
  id: 'default',
  version: '1',
  description:
    'Asks before every HTTP request and memory write; every skill-document fetch asks first; budgets stop a runaway run.',
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
  // The chat security contract's default-deny pack, written out so `ccos policies show` lists
  // every rule by its id (docs/policy-packs.md).
  rules: [],
  rules_default: 'allow',
  label_rules: [...CONTRACT_LABEL_RULES],
  egress_exceptions: [...CONTRACT_EGRESS_EXCEPTIONS],
  activation_rules: [...CONTRACT_ACTIVATION_RULES],
  retention: {
    quarantine_ttl_ms: 7 * DAY_MS,
    memory_default_expiry_ms: 90 * DAY_MS,
    payload_retention_ms: 30 * DAY_MS,
  },
};

/** A pack the host knows: its content as authored, the version it is stamped with, its origin. */
type KnownPack = {
  /** The pack with `version` set to the stamped version, as runs and entries name it. */
  stamped: PolicyPack;
  /** The pack exactly as its author wrote it (what is stored, hashed and shown). */
  authored: PolicyPack;
  source: PolicyPackSource;
};

/** What of a run names its pack: the id, and the version it was created under if known. */
type RunPackRef = { policy_pack: string; policy_pack_version: string | null };

/**
 * The policy packs a host knows. New runs get the current pack of an id; a run keeps the
 * version it was created under (`forRun`), also after its file was edited or removed, because
 * the host loads every version a run was created with (`pinned`) back from the database.
 * Constructed by the host, not a global.
 */
export class PolicyPacks {
  readonly #current: ReadonlyMap<string, KnownPack>;
  readonly #byVersion: ReadonlyMap<string, KnownPack>;

  constructor(
    packs: readonly PolicyPack[] = [DEFAULT_POLICY_PACK],
    options: {
      sourceOf?: (id: string) => PolicyPackSource;
      /** Versions runs were created under, as stored; unknown or current ones are ignored. */
      pinned?: readonly PolicyPack[];
    } = {},
  ) {
    const current = new Map<string, KnownPack>();
    // Packs come from settings and files: parse them like any other edge, so a bad pack
    // stops start-up. A later pack with an id replaces an earlier one.
    for (const p of packs) {
      const authored = validPack(p);
      current.set(authored.id, known(authored, options.sourceOf?.(authored.id) ?? SETTINGS));
    }
    const byVersion = new Map<string, KnownPack>();
    for (const p of options.pinned ?? []) {
      const authored = validPack(p);
      const pinned = known(authored, { kind: 'pinned' });
      byVersion.set(pinned.stamped.version, pinned);
    }
    for (const k of current.values()) byVersion.set(k.stamped.version, k);
    this.#current = current;
    this.#byVersion = byVersion;
  }

  /** The stamped version of a pack's current content, or undefined for an unknown id. */
  versionOf(id: string): string | undefined {
    return this.#current.get(id)?.stamped.version;
  }

  /** The current pack of an id, for a run about to be created. */
  get(id: string): PolicyPack {
    const pack = this.#current.get(id);
    if (pack === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        `unknown policy pack "${id}"; known: ${[...this.#current.keys()].join(', ')}`,
        {
          fields: [{ path: 'policy_pack', message: `unknown policy pack "${id}"` }],
        },
      );
    }
    return pack.stamped;
  }

  /**
   * The pack a run is held to: the version it was created under. A run from before packs
   * were versioned by content (or whose version is gone) follows its pack's current content.
   */
  forRun(run: RunPackRef): PolicyPack {
    return this.#pinnedOf(run)?.stamped ?? this.get(run.policy_pack);
  }

  /**
   * The stamped version `forRun` would give, or undefined where it would throw (a run from
   * before versioning whose pack is gone): an audit entry about such a run must still commit.
   */
  versionForRun(run: RunPackRef): string | undefined {
    return this.#pinnedOf(run)?.stamped.version ?? this.versionOf(run.policy_pack);
  }

  #pinnedOf(run: RunPackRef): KnownPack | undefined {
    return run.policy_pack_version === null
      ? undefined
      : this.#byVersion.get(run.policy_pack_version);
  }

  /**
   * The pack an audit envelope names by its stamped version; work no run asked for (no
   * version) is held to the host's default pack.
   */
  atVersion(version: string | undefined): PolicyPack {
    const known = version === undefined ? undefined : this.#byVersion.get(version);
    return known?.stamped ?? this.get(DEFAULT_POLICY_PACK.id);
  }

  /** The pack as authored for a stamped version, to store with the run that uses it. */
  authoredOf(version: string): PolicyPack | undefined {
    return this.#byVersion.get(version)?.authored;
  }

  /** Every current pack, then the versions only older runs still use. */
  list(): PolicyPackSummary[] {
    const current = [...this.#current.values()];
    const older = [...this.#byVersion.values()].filter((k) => k.source.kind === 'pinned');
    return [...current, ...older].map(summaryOf);
  }

  /** A current pack as authored, with its summary; NOT_FOUND for an unknown id. */
  describe(id: string): { summary: PolicyPackSummary; pack: PolicyPack } {
    const pack = this.#current.get(id);
    if (pack === undefined) throw new AppError('NOT_FOUND', `no policy pack "${id}"`);
    return { summary: summaryOf(pack), pack: pack.authored };
  }
}

const SETTINGS: PolicyPackSource = { kind: 'settings' };

function validPack(p: PolicyPack): PolicyPack {
  const parsed = policyPackSchema.safeParse(p);
  if (!parsed.success) throw invalidInput(`policy pack "${p.id}"`, parsed.error.issues);
  const inconsistent = packConsistencyIssues(parsed.data);
  if (inconsistent.length > 0) throw invalidInput(`policy pack "${p.id}"`, inconsistent);
  return parsed.data;
}

function known(authored: PolicyPack, source: PolicyPackSource): KnownPack {
  return { authored, stamped: { ...authored, version: stampedVersionOf(authored) }, source };
}

function summaryOf(k: KnownPack): PolicyPackSummary {
  return {
    id: k.stamped.id,
    version: k.stamped.version,
    description: k.stamped.description ?? null,
    source: k.source,
  };
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
