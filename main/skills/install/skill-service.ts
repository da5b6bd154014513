import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type {
  AutofillGrant,
  SkillListEntry,
  SkillLoadError,
  SkillManifest,
  ToolDefinition,
} from '../../../contracts/skills.ts';
import { autofillGrants } from '../manifest/autofill-grants.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { Db } from '../../store/schema.ts';
import { JsonSchemaCompiler } from '../manifest/compile-json-schema.ts';
import {
  compileDeclarativeSkill,
  declarativeFormatOf,
  type CompiledSkill,
} from '../declarative/compile-declarative-skill.ts';
import { fetchSkillDocument } from '../declarative/fetch-skill-document.ts';
import { readSkillDocument } from '../declarative/read-skill-document.ts';
import { writeCompiledSkill } from '../declarative/write-compiled-skill.ts';
import { loadSkillPackage } from '../package/load-skill-package.ts';
import { MANIFEST_FILE } from '../package/read-skill-package.ts';
import { skillDigest } from '../package/skill-digest.ts';
import { refuseDeniedSkill, type SkillPackRules } from './skill-pack-rules.ts';
import type { SkillRegistry, SkillRegistryListener } from '../registry/skill-registry.ts';
import type { Disposable } from '../../disposable.ts';
import { SkillsRepository, type InstalledSkill } from './skills-repository.ts';
import { auditedBy } from '../../actor-context.ts';
import {
  NO_RUN_ENVELOPE,
  newRequestId,
  type AuditEnvelope,
  type EgressAudit,
  type EgressSender,
} from '../../chain/egress-audit.ts';

/** The `purpose` of a skill document request on the chain. */
const DOCUMENT_PURPOSE = 'skill.document';

export type SkillServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  registry: SkillRegistry;
  logger: Logger;
  /** Where installed packages are kept: `<data dir>/skills`. */
  skillsDir: string;
  /** Audits every skill document request (egress.attempt before it leaves, outcome after). */
  egress: EgressAudit;
  /** The host pack's rules on installing and enabling skills; absent: no pack rules. */
  packRules?: SkillPackRules;
};

/** On whose behalf a skill document is fetched, and which gate let the request out. */
export type DocumentFetchAudit = {
  sender: EgressSender;
  envelope: AuditEnvelope;
  rule_id: string | null;
};

type FailedSkill = InstalledSkill & { load_error: SkillLoadError };

/** What an install reports back: the skill and exactly what it may reach (for consent). */
export type InstallResult = {
  skill: SkillListEntry;
  replaced_version: string | null;
  /** The fills from run context the skill may receive (`autofillGrants`): part of the consent. */
  autofill: AutofillGrant[];
};

/** A skill checked by the load contract and not installed: what a consent screen shows. */
export type InspectedSkill = { manifest: SkillManifest; digest: string };

/** Install options: `consentDigest` pins the install to exactly what `inspect` showed. */
export type InstallOptions = { force?: boolean; consentDigest?: string };

/**
 * Installing, listing, enabling and removing skills, durably. The registry validates and
 * loads; this service keeps a copy of exactly what was loaded in the data dir (so a skill
 * survives its source folder being moved), persists it, and writes `skill.*` chain entries.
 * Nothing of a rejected skill is kept anywhere.
 */
export class SkillService {
  readonly #deps: SkillServiceDeps;
  readonly #compiler = new JsonSchemaCompiler();
  /** Installed skills whose last load failed, as persisted; kept until retried or removed. */
  readonly #failed = new Map<string, FailedSkill>();

  constructor(deps: SkillServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Reinstalls every persisted skill at start-up. One that does not load (a bad copy, or only
   * a timeout on a busy machine, or a pack rule that now denies it) is kept, disabled and marked `failed` with the reason, and
   * audited; a person retries it (enable) or removes it — start-up never deletes an install.
   */
  async restore(ctx: ActorContext): Promise<{ restored: string[]; failed: string[] }> {
    const saved = await new SkillsRepository(this.#deps.db).list();
    const restored: string[] = [];
    const failed: string[] = [];
    for (const skill of saved) {
      if (skill.load_error !== undefined) {
        this.#failed.set(skill.skill_id, { ...skill, load_error: skill.load_error });
        failed.push(skill.skill_id);
        continue;
      }
      try {
        // A pack rule added since the install holds too: such a skill is kept, `failed`.
        if (skill.enabled) await this.#refuseDenied(skill.manifest, 'enable', ctx);
        await this.#deps.registry.install(skill.source, { enabled: skill.enabled });
        restored.push(skill.skill_id);
      } catch (e) {
        if (!isAppError(e)) throw e;
        failed.push(skill.skill_id);
        this.#deps.logger.error(
          { skill_id: skill.skill_id, code: e.code, err: e },
          'installed skill did not load: kept, disabled; enable it to retry or remove it',
        );
        await this.#markFailed(skill, e, ctx);
      }
    }
    return { restored, failed };
  }

  async #markFailed(skill: InstalledSkill, e: AppError, ctx: ActorContext): Promise<void> {
    const loadError = {
      code: e.code,
      message: e.message,
      at: this.#deps.clock.now().toISOString(),
    };
    this.#failed.set(skill.skill_id, { ...skill, enabled: false, load_error: loadError });
    await this.#deps.chain.transact(async (tx) => {
      await new SkillsRepository(tx.db).markFailed(skill.skill_id, loadError);
      await tx.append({
        event_type: 'skill.disabled',
        ...auditedBy(ctx),
        capability_id: skill.skill_id,
        capability_version: skill.version,
        data: {
          skill_id: skill.skill_id,
          version: skill.version,
          reason: 'load_failed',
          code: e.code,
          message: e.message,
        },
      });
    });
  }

  /**
   * Installs (or upgrades) from a folder, a `.tgz`, or a declarative `.yaml`/`.yml`/`.md`
   * document; SKILL_INVALID leaves nothing behind.
   */
  async install(
    source: string,
    ctx: ActorContext,
    options: InstallOptions = {},
  ): Promise<InstallResult> {
    if (declarativeFormatOf(source) === undefined) {
      if (options.consentDigest !== undefined)
        consented((await this.inspect(source, ctx)).digest, options.consentDigest);
      return this.#installPackage(source, ctx);
    }
    const doc = await readSkillDocument(source);
    const compiled = this.#compile(doc.file, doc.text, doc.format, options.force ?? false);
    if (options.consentDigest !== undefined)
      consented(skillDigest(compiled.manifest, compiled.entry), options.consentDigest);
    return this.installCompiled(compiled, ctx);
  }

  /**
   * Installs a declarative skill document fetched from a URL (docs/declarative-skills.md),
   * for an admin who named the URL: each request is on the chain before it leaves.
   */
  async installFromUrl(
    url: string,
    ctx: ActorContext,
    options: InstallOptions = {},
  ): Promise<InstallResult> {
    // The admin named the URL: no gate but theirs, and their request is what the chain shows.
    const compiled = await this.compileFromUrl(url, {
      ...options,
      audit: {
        sender: { actor: ctx.actor },
        envelope: { ...NO_RUN_ENVELOPE, correlation_id: ctx.correlation_id ?? null },
        rule_id: null,
      },
    });
    if (options.consentDigest !== undefined)
      consented(skillDigest(compiled.manifest, compiled.entry), options.consentDigest);
    return this.installCompiled(compiled, ctx);
  }

  /**
   * Applies the static load contract to a folder, `.tgz`, document or URL and reports what
   * the skill would be given, registering and writing nothing (the consent screen).
   */
  async inspect(
    source: string | { url: string },
    ctx: ActorContext,
    options: { force?: boolean } = {},
  ): Promise<InspectedSkill> {
    if (typeof source !== 'string') {
      // The admin named the URL: the fetch is theirs, and the chain shows it.
      const compiled = await this.compileFromUrl(source.url, {
        ...options,
        audit: {
          sender: { actor: ctx.actor },
          envelope: { ...NO_RUN_ENVELOPE, correlation_id: ctx.correlation_id ?? null },
          rule_id: null,
        },
      });
      return {
        manifest: compiled.manifest,
        digest: skillDigest(compiled.manifest, compiled.entry),
      };
    }
    if (declarativeFormatOf(source) !== undefined) {
      const doc = await readSkillDocument(source);
      const compiled = this.#compile(doc.file, doc.text, doc.format, options.force ?? false);
      return {
        manifest: compiled.manifest,
        digest: skillDigest(compiled.manifest, compiled.entry),
      };
    }
    const pkg = await loadSkillPackage(source, this.#deps.registry.loadPolicy, this.#compiler);
    return { manifest: pkg.manifest, digest: skillDigest(pkg.manifest, pkg.code.code) };
  }

  /**
   * Fetches and compiles a skill document from a URL without installing anything: the whole
   * load contract is applied (SKILL_INVALID, SKILL_HTTP_FAILED, PAYLOAD_TOO_LARGE), so what
   * comes back is exactly what `installCompiled` would install.
   */
  async compileFromUrl(
    url: string,
    options: { force?: boolean; audit: DocumentFetchAudit },
  ): Promise<CompiledSkill> {
    const force = options.force ?? false;
    const { sender, envelope, rule_id: ruleId } = options.audit;
    const doc = await fetchSkillDocument(url, {
      allowLoopbackHttp: this.#deps.registry.loadPolicy.allowLoopbackHttp,
      force,
      audit: (target, hop) =>
        this.#deps.egress.attempt(
          sender,
          envelope,
          {
            request_id: newRequestId(),
            purpose: DOCUMENT_PURPOSE,
            url: target.href,
            method: 'GET',
            hop,
          },
          ruleId,
        ),
    });
    return this.#compile(doc.url, doc.text, doc.format, force);
  }

  /** Installs a compiled declarative skill: a temporary package, installed like any folder. */
  async installCompiled(compiled: CompiledSkill, ctx: ActorContext): Promise<InstallResult> {
    const folder = await writeCompiledSkill(compiled);
    try {
      return await this.#installPackage(folder.dir, ctx);
    } finally {
      // The data dir keeps its own copy of what was installed.
      await folder.cleanup();
    }
  }

  #compile(
    label: string,
    text: string,
    format: 'yaml' | 'markdown',
    force: boolean,
  ): CompiledSkill {
    return compileDeclarativeSkill(label, text, format, {
      policy: this.#deps.registry.loadPolicy,
      compiler: this.#compiler,
      force,
    });
  }

  async #installPackage(source: string, ctx: ActorContext): Promise<InstallResult> {
    // Checked on the package before the registry loads it, so a refused upgrade leaves the
    // installed version running.
    await this.#refuseDenied(
      (await loadSkillPackage(source, this.#deps.registry.loadPolicy, this.#compiler)).manifest,
      'install',
      ctx,
    );
    const loaded = await this.#deps.registry.install(source);
    const before = this.#findPersistedVersion(loaded.skill_id);
    const copyDir = path.join(this.#deps.skillsDir, loaded.skill_id, loaded.version);
    try {
      const pkg = this.#deps.registry.packageOf(loaded.skill_id);
      await rm(copyDir, { recursive: true, force: true });
      await mkdir(copyDir, { recursive: true, mode: 0o700 });
      await writeFile(path.join(copyDir, MANIFEST_FILE), JSON.stringify(pkg.manifest, null, 2));
      await writeFile(path.join(copyDir, pkg.manifest.entry), pkg.code);
      const replaced = (await before)?.version ?? null;
      const autofill = autofillGrants(pkg.manifest);
      await this.#deps.chain.transact(async (tx) => {
        await new SkillsRepository(tx.db).save({
          skill_id: loaded.skill_id,
          version: loaded.version,
          manifest: pkg.manifest,
          source: copyDir,
          enabled: true,
          installed_at: loaded.loaded_at,
        });
        await tx.append({
          event_type: 'skill.loaded',
          ...auditedBy(ctx),
          capability_id: loaded.skill_id,
          capability_version: loaded.version,
          // Skills are logged by id and version, never their code or full manifest.
          data: {
            skill_id: loaded.skill_id,
            version: loaded.version,
            replaced_version: replaced,
            operations: loaded.operations.map((o) => o.id),
            permissions: loaded.permissions,
            autofill,
          },
        });
      });
      this.#failed.delete(loaded.skill_id);
      if (replaced !== null && replaced !== loaded.version) {
        await rm(path.join(this.#deps.skillsDir, loaded.skill_id, replaced), {
          recursive: true,
          force: true,
        });
      }
      return {
        skill: this.#deps.registry.find(loaded.skill_id) ?? loaded,
        replaced_version: replaced,
        autofill,
      };
    } catch (e) {
      // Keep the registry and the store in agreement: what could not be persisted is not loaded.
      this.#deps.registry.unload(loaded.skill_id);
      await rm(copyDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Loaded skills and, beside them, installed ones whose reload failed. */
  list(): SkillListEntry[] {
    const failed = [...this.#failed.values()].map(failedView);
    return [...this.#deps.registry.list(), ...failed].sort((a, b) =>
      a.skill_id.localeCompare(b.skill_id),
    );
  }

  /** The agent's tool list (enabled skills' operations), from the same registry as `list`. */
  tools(): ToolDefinition[] {
    return this.#deps.registry.tools();
  }

  /** Hears every change of the tool list (the MCP endpoint's `tools/list_changed`). */
  subscribe(listener: SkillRegistryListener): Disposable {
    return this.#deps.registry.subscribe(listener);
  }

  get(skillId: string): SkillListEntry {
    const failed = this.#failed.get(skillId);
    const skill = this.#deps.registry.find(skillId) ?? (failed && failedView(failed));
    if (skill === undefined) throw new AppError('NOT_FOUND', `no skill ${skillId} is installed`);
    return skill;
  }

  async unload(skillId: string, ctx: ActorContext): Promise<void> {
    const skill = this.get(skillId);
    if (skill.status !== 'failed') this.#deps.registry.unload(skillId);
    this.#failed.delete(skillId);
    await this.#deps.chain.transact(async (tx) => {
      await new SkillsRepository(tx.db).remove(skillId);
      await tx.append({
        event_type: 'skill.unloaded',
        ...auditedBy(ctx),
        capability_id: skillId,
        capability_version: skill.version,
        data: { skill_id: skillId, version: skill.version, reason: 'removed' },
      });
    });
    await rm(path.join(this.#deps.skillsDir, skillId), { recursive: true, force: true });
  }

  async setEnabled(skillId: string, enabled: boolean, ctx: ActorContext): Promise<SkillListEntry> {
    const skill = this.get(skillId);
    if (skill.status === 'failed') {
      if (enabled) return this.#retry(skillId, ctx);
      return skill;
    }
    if (enabled) {
      await this.#refuseDenied(skill, 'enable', ctx);
      this.#deps.registry.enable(skillId);
    } else this.#deps.registry.disable(skillId);
    await this.#deps.chain.transact(async (tx) => {
      await new SkillsRepository(tx.db).setEnabled(skillId, enabled);
      await tx.append({
        event_type: enabled ? 'skill.enabled' : 'skill.disabled',
        ...auditedBy(ctx),
        capability_id: skillId,
        capability_version: skill.version,
        data: { skill_id: skillId, version: skill.version },
      });
    });
    return this.get(skillId);
  }

  /** Enabling a `failed` skill loads it again from its kept copy; a new failure says why. */
  async #retry(skillId: string, ctx: ActorContext): Promise<SkillListEntry> {
    const saved = this.#failed.get(skillId);
    if (saved === undefined) throw new AppError('NOT_FOUND', `no skill ${skillId} is installed`);
    await this.#refuseDenied(saved.manifest, 'enable', ctx);
    try {
      await this.#deps.registry.install(saved.source, { enabled: true });
    } catch (e) {
      if (!isAppError(e)) throw e;
      await this.#markFailed(saved, e, ctx);
      throw new AppError(e.code, `skill ${skillId} still does not load: ${e.message}`, e.details);
    }
    try {
      await this.#deps.chain.transact(async (tx) => {
        await new SkillsRepository(tx.db).save({ ...saved, enabled: true, load_error: undefined });
        await tx.append({
          event_type: 'skill.enabled',
          ...auditedBy(ctx),
          capability_id: skillId,
          capability_version: saved.version,
          data: { skill_id: skillId, version: saved.version, reason: 'load_retried' },
        });
      });
      this.#failed.delete(skillId);
    } catch (e) {
      this.#deps.registry.unload(skillId);
      throw e;
    }
    return this.get(skillId);
  }

  async #refuseDenied(
    skill: Parameters<typeof refuseDeniedSkill>[1],
    doing: 'install' | 'enable',
    ctx: ActorContext,
  ): Promise<void> {
    const rules = this.#deps.packRules;
    if (rules !== undefined)
      await refuseDeniedSkill({ chain: this.#deps.chain, rules }, skill, doing, ctx);
  }

  async #findPersistedVersion(skillId: string): Promise<{ version: string } | undefined> {
    const saved = await new SkillsRepository(this.#deps.db).list();
    return saved.find((s) => s.skill_id === skillId);
  }
}

/** Refuses an install whose skill is no longer the one the person consented to. */
function consented(actual: string, approved: string): void {
  if (actual !== approved)
    throw new AppError(
      'CONFLICT',
      'the skill changed since it was shown for consent; check it again before installing',
    );
}

/** What the API shows of a skill that is installed but did not load: its stored manifest. */
function failedView(skill: FailedSkill): SkillListEntry {
  const m = skill.manifest;
  const loadError = skill.load_error;
  return {
    skill_id: m.skill_id,
    version: m.version,
    name: m.name,
    description: m.description,
    status: 'failed',
    source: skill.source,
    loaded_at: skill.installed_at,
    operations: m.operations,
    permissions: m.permissions,
    onboarding: { state: 'NOT_LOADED', step: 0, waiting_for: `load failed: ${loadError.message}` },
    load_error: loadError,
  };
}
