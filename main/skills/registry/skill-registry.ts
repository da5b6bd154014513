import type {
  SkillListEntry,
  SkillOnboarding,
  SkillRegistryChange,
  ToolDefinition,
} from '../../../contracts/skills.ts';
import type { AuditEnvelope } from '../../chain/egress-audit.ts';
import type { Disposable } from '../../disposable.ts';
import { AppError } from '../../errors.ts';
import { JsonSchemaCompiler, type JsonValidator } from '../manifest/compile-json-schema.ts';
import { loadSkillPackage, type SkillPackage } from '../package/load-skill-package.ts';
import type { PackageLimits } from '../package/package-limits.ts';
import { skillDigest } from '../package/skill-digest.ts';
import { createSkillBindings } from '../bindings/skill-bindings.ts';
import type { SkillHostDeps } from '../bindings/skill-host-deps.ts';
import type { HttpLimits } from '../bindings/skill-http-fetch.ts';
import type { SandboxedSkill, SkillSandbox } from '../sandbox/skill-sandbox.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import { parseToolName, toolDefinitions } from '../manifest/tool-definitions.ts';
import type { SkillLoadPolicy } from '../manifest/validate-manifest.ts';

export type SkillRegistryDeps = {
  sandbox: SkillSandbox;
  policy: SkillLoadPolicy;
  host: SkillHostDeps;
  httpLimits?: Partial<HttpLimits>;
  packageLimits?: PackageLimits;
  /** For `loaded_at`; defaults to the system clock. */
  now?: () => Date;
  /**
   * The host's own tools (skills/builtin-tools.ts), listed first in `tools()`. Their skill
   * ids are reserved: no skill is installed under one of them.
   */
  builtinTools?: readonly ToolDefinition[];
};

/** Hears every change after it is visible in `list()` and `tools()`. */
export type SkillRegistryListener = (change: SkillRegistryChange) => void;

type Entry = {
  pkg: SkillPackage;
  sandboxed: SandboxedSkill;
  enabled: boolean;
  loadedAt: string;
  tools: readonly ToolDefinition[];
  inflight: number;
  retired: boolean;
  onboarding: SkillOnboarding;
  /** `skillDigest` of this loaded package, hashed on first use: a reload is a new entry. */
  digest: string | undefined;
};

/** Onboarding states in which a skill's operations may run. */
const USABLE = new Set<SkillOnboarding['state']>(['OPERATIONAL', 'READY']);

/** Options of one call. */
export type SkillCallOptions = {
  /**
   * The host's own onboarding calls (register, status polls) run before the skill is set up;
   * nothing else may pass this.
   */
  onboarding?: boolean;
  /**
   * Whom the call serves (run, session, step): its binding calls are audited under it, and
   * its run gets its own isolate context, so a fact a skill keeps in a global during one run
   * is not there in another (issue 17 #32).
   */
  envelope?: AuditEnvelope;
};

/**
 * The one truth of loaded skills (ARCHITECTURE.md §7): the API's list, the agent's tool list
 * and change notifications all derive from it, so they cannot disagree. A skill enters only
 * after it fully loaded; replacing a version swaps in one step, the old isolate serving
 * in-flight calls until they finish.
 */
export class SkillRegistry implements Disposable {
  readonly #deps: SkillRegistryDeps;
  readonly #compiler = new JsonSchemaCompiler();
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<SkillRegistryListener>();
  #disposed = false;

  constructor(deps: SkillRegistryDeps) {
    this.#deps = deps;
  }

  /** The load policy (registered capabilities, loopback http) skills are checked against. */
  get loadPolicy(): SkillLoadPolicy {
    return this.#deps.policy;
  }

  /**
   * Loads a skill from a folder or `.tgz`, replacing any loaded version of the same skill.
   * Throws SKILL_INVALID (and changes nothing) when any load rule fails.
   */
  async install(source: string, options: { enabled?: boolean } = {}): Promise<SkillListEntry> {
    this.#assertOpen();
    const pkg = await loadSkillPackage(
      source,
      this.#deps.policy,
      this.#compiler,
      this.#deps.packageLimits,
    );
    const reserved = (this.#deps.builtinTools ?? []).some(
      (t) => t.skill_id === pkg.manifest.skill_id,
    );
    if (reserved) {
      throw skillInvalid(
        pkg.source,
        'skill_id',
        `"${pkg.manifest.skill_id}" is reserved for the host's built-in tools`,
        'choose another skill_id',
      );
    }
    const bindings = createSkillBindings(pkg.manifest, this.#deps.host, this.#deps.httpLimits);
    const sandboxed = await this.#deps.sandbox.load(pkg.code, bindings);
    if (this.#disposed) {
      sandboxed.dispose();
      throw new AppError('SKILL_UNAVAILABLE', 'the skill registry was closed during the install');
    }
    const id = pkg.manifest.skill_id;
    const previous = this.#entries.get(id);
    const previousHadOnboarding = (previous?.pkg.manifest.onboarding ?? []).length > 0;
    const entry: Entry = {
      pkg,
      sandboxed,
      enabled: options.enabled ?? true,
      loadedAt: (this.#deps.now?.() ?? new Date()).toISOString(),
      tools: toolDefinitions(pkg.manifest),
      inflight: 0,
      retired: false,
      // A skill with setup steps starts LOADED (unusable) until the onboarding service says
      // otherwise; an upgrade keeps the state its previous version reached.
      onboarding:
        (pkg.manifest.onboarding ?? []).length === 0
          ? { state: 'READY', step: 0 }
          : previousHadOnboarding && previous !== undefined
            ? previous.onboarding
            : { state: 'LOADED', step: 0 },
      digest: undefined,
    };
    this.#entries.set(id, entry);
    if (previous !== undefined) this.#retire(previous);
    this.#emit({
      kind: previous === undefined ? 'loaded' : 'replaced',
      skill_id: id,
      version: pkg.manifest.version,
    });
    return this.#view(entry);
  }

  /** Removes a skill; its calls in flight finish, new ones get NOT_FOUND. */
  unload(skillId: string): void {
    const entry = this.#get(skillId);
    this.#entries.delete(skillId);
    this.#retire(entry);
    this.#emit({ kind: 'unloaded', skill_id: skillId, version: entry.pkg.manifest.version });
  }

  enable(skillId: string): void {
    this.#setEnabled(skillId, true);
  }

  disable(skillId: string): void {
    this.#setEnabled(skillId, false);
  }

  /** Records a skill's onboarding progress (set by the onboarding service, which persists it). */
  setOnboarding(skillId: string, onboarding: SkillOnboarding): void {
    const entry = this.#get(skillId);
    if ((entry.pkg.manifest.onboarding ?? []).length === 0) return;
    entry.onboarding = onboarding;
  }

  /** Every loaded skill with its operations and permissions, sorted by id. */
  list(): SkillListEntry[] {
    return [...this.#entries.values()]
      .map((e) => this.#view(e))
      .sort((a, b) => a.skill_id.localeCompare(b.skill_id));
  }

  /** One loaded skill, or undefined. */
  find(skillId: string): SkillListEntry | undefined {
    const entry = this.#entries.get(skillId);
    return entry === undefined ? undefined : this.#view(entry);
  }

  /**
   * The loaded package's validated manifest and entry code, exactly as running, so the
   * host can keep its own copy of what it installed.
   */
  packageOf(skillId: string): { manifest: SkillPackage['manifest']; code: string } {
    const entry = this.#get(skillId);
    return { manifest: entry.pkg.manifest, code: entry.pkg.code.code };
  }

  /**
   * The digest (`skillDigest`) of the package loaded now, which is what would run. Hashed once
   * per load, not on every gated call; a reinstall, even under the same version, is a new load.
   */
  digestOf(skillId: string): string {
    const entry = this.#get(skillId);
    entry.digest ??= skillDigest(entry.pkg.manifest, entry.pkg.code.code);
    return entry.digest;
  }

  /**
   * The agent's tool list (and the API's): the host's built-in tools, then one definition
   * per operation of every enabled skill.
   */
  tools(): ToolDefinition[] {
    const skills = this.list()
      .filter((s) => s.status === 'enabled')
      .flatMap((s) => this.#entries.get(s.skill_id)?.tools ?? []);
    return [...(this.#deps.builtinTools ?? []), ...skills];
  }

  /**
   * Calls an operation by tool name: validates the input against its input_schema (no
   * invalid request reaches the isolate), runs it, validates the output against output_schema.
   */
  async callTool(name: string, input: unknown): Promise<unknown> {
    const parsed = parseToolName(name);
    if (parsed === undefined) throw new AppError('NOT_FOUND', `no tool named ${name}`);
    return this.call(parsed.skillId, parsed.operationId, input);
  }

  /** Checks `input` against the operation's input_schema without running anything. */
  validateInput(skillId: string, operationId: string, input: unknown): ReturnType<JsonValidator> {
    const op = this.#get(skillId).pkg.operations.get(operationId);
    if (op === undefined)
      throw new AppError('NOT_FOUND', `skill ${skillId} has no operation ${operationId}`);
    return op.validateInput(input);
  }

  /** Calls `operationId` of `skillId`; see `callTool`. */
  async call(
    skillId: string,
    operationId: string,
    input: unknown,
    options: SkillCallOptions = {},
  ): Promise<unknown> {
    const entry = this.#get(skillId);
    if (!entry.enabled) throw new AppError('SKILL_DISABLED', `skill ${skillId} is disabled`);
    // The last line of defence: every caller, agent or not, meets it (the pipeline checks first).
    if (options.onboarding !== true && !USABLE.has(entry.onboarding.state))
      throw needsSetup(skillId, entry.onboarding);
    const op = entry.pkg.operations.get(operationId);
    if (op === undefined)
      throw new AppError('NOT_FOUND', `skill ${skillId} has no operation ${operationId}`);
    const checked = op.validateInput(input);
    if (!checked.ok) {
      throw new AppError(
        'INVALID_INPUT',
        `invalid input for ${skillId}.${operationId}: ${checked.problems.join('; ')}`,
        { fields: checked.problems },
      );
    }
    entry.inflight += 1;
    try {
      const output = await entry.sandboxed.call(operationId, input, options.envelope);
      const validOut = op.validateOutput?.(output);
      if (validOut !== undefined && !validOut.ok) {
        throw new AppError(
          'SKILL_BAD_OUTPUT',
          `output of ${skillId}.${operationId} does not match its output_schema: ${validOut.problems.join('; ')}`,
        );
      }
      return output;
    } finally {
      entry.inflight -= 1;
      if (entry.retired && entry.inflight === 0) entry.sandboxed.dispose();
    }
  }

  /** Subscribes to changes; dispose the result to stop hearing them. */
  subscribe(listener: SkillRegistryListener): Disposable {
    this.#listeners.add(listener);
    return {
      dispose: () => {
        this.#listeners.delete(listener);
      },
    };
  }

  /** Disposes every isolate; the registry refuses work afterwards. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const entry of this.#entries.values()) entry.sandboxed.dispose();
    this.#entries.clear();
    this.#listeners.clear();
  }

  #setEnabled(skillId: string, enabled: boolean): void {
    const entry = this.#get(skillId);
    if (entry.enabled === enabled) return;
    entry.enabled = enabled;
    this.#emit({
      kind: enabled ? 'enabled' : 'disabled',
      skill_id: skillId,
      version: entry.pkg.manifest.version,
    });
  }

  /** Takes an entry out of service: its isolate goes once the calls it is serving are done. */
  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.inflight === 0) entry.sandboxed.dispose();
  }

  #get(skillId: string): Entry {
    this.#assertOpen();
    const entry = this.#entries.get(skillId);
    if (entry === undefined) throw new AppError('NOT_FOUND', `no skill ${skillId} is loaded`);
    return entry;
  }

  #assertOpen(): void {
    if (this.#disposed) throw new AppError('SKILL_UNAVAILABLE', 'the skill registry is closed');
  }

  #emit(change: SkillRegistryChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A failing subscriber must not undo a change every other view already shows.
      }
    }
  }

  #view(entry: Entry): SkillListEntry {
    const m = entry.pkg.manifest;
    return {
      skill_id: m.skill_id,
      version: m.version,
      name: m.name,
      description: m.description,
      status: entry.enabled ? 'enabled' : 'disabled',
      source: entry.pkg.source,
      loaded_at: entry.loadedAt,
      operations: m.operations,
      permissions: m.permissions,
      onboarding: entry.onboarding,
    };
  }
}

/** The "needs setup" refusal, the same wherever it is raised. */
export function needsSetup(skillId: string, onboarding: SkillOnboarding): AppError {
  return new AppError(
    'SKILL_NEEDS_SETUP',
    `skill ${skillId} needs setup (onboarding is ${onboarding.state}${onboarding.waiting_for === undefined ? '' : `: ${onboarding.waiting_for}`}); an admin runs \`ccos skills setup ${skillId}\` (POST /v1/skills/${skillId}/onboarding)`,
    { onboarding },
  );
}
