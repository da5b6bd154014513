import type { Kysely } from 'kysely';
import {
  skillLoadErrorSchema,
  skillManifestSchema,
  type SkillLoadError,
  type SkillManifest,
} from '../../../contracts/skills.ts';
import type { Database, SkillsTable } from '../../store/schema.ts';

export type { SkillsTable };

/** An installed skill as persisted. */
export type InstalledSkill = {
  skill_id: string;
  version: string;
  manifest: SkillManifest;
  source: string;
  enabled: boolean;
  installed_at: string;
  /** Set when the last reload failed: the skill is kept, disabled, until retried or removed. */
  load_error?: SkillLoadError;
};

/**
 * Persists which skills are installed, so the host can reinstall them from `source` at
 * start-up. Written only after the registry accepted a skill: a rejected skill never lands here.
 */
export class SkillsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Inserts or replaces the row of one skill (a new version replaces the old). */
  async save(skill: InstalledSkill): Promise<void> {
    const row: SkillsTable = {
      skill_id: skill.skill_id,
      version: skill.version,
      manifest: JSON.stringify(skill.manifest),
      source: skill.source,
      enabled: skill.enabled ? 1 : 0,
      installed_at: skill.installed_at,
      load_error: skill.load_error === undefined ? null : JSON.stringify(skill.load_error),
    };
    await this.#db
      .insertInto('skills')
      .values(row)
      .onConflict((oc) => oc.column('skill_id').doUpdateSet(row))
      .execute();
  }

  async setEnabled(skillId: string, enabled: boolean): Promise<void> {
    await this.#db
      .updateTable('skills')
      .set({ enabled: enabled ? 1 : 0 })
      .where('skill_id', '=', skillId)
      .execute();
  }

  /** Keeps a skill that would not reload, disabled, with the reason (never deletes it). */
  async markFailed(skillId: string, error: SkillLoadError): Promise<void> {
    await this.#db
      .updateTable('skills')
      .set({ enabled: 0, load_error: JSON.stringify(error) })
      .where('skill_id', '=', skillId)
      .execute();
  }

  async remove(skillId: string): Promise<void> {
    await this.#db.deleteFrom('skills').where('skill_id', '=', skillId).execute();
  }

  /** Every installed skill, by id; the manifest JSON column is parsed as an edge (STYLE.md §6). */
  async list(): Promise<InstalledSkill[]> {
    const rows = await this.#db.selectFrom('skills').selectAll().orderBy('skill_id').execute();
    return rows.map((r) => ({
      skill_id: r.skill_id,
      version: r.version,
      manifest: skillManifestSchema.parse(JSON.parse(r.manifest)),
      source: r.source,
      enabled: r.enabled === 1,
      installed_at: r.installed_at,
      ...(r.load_error === null
        ? {}
        : { load_error: skillLoadErrorSchema.parse(JSON.parse(r.load_error)) }),
    }));
  }
}
