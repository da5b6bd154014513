import type { JsonSchemaCompiler } from '../manifest/compile-json-schema.ts';
import { PACKAGE_LIMITS, type PackageLimits } from './package-limits.ts';
import { readSkillPackage } from './read-skill-package.ts';
import type { SkillCode } from '../sandbox/skill-sandbox.ts';
import {
  validateManifest,
  type SkillLoadPolicy,
  type ValidatedManifest,
} from '../manifest/validate-manifest.ts';

/** A skill package that passed every static rule; its code still has to load in a sandbox. */
export type SkillPackage = ValidatedManifest & { source: string; code: SkillCode };

/**
 * Reads a folder or `.tgz` and applies the static load rules (manifest, schemas, permissions,
 * entry file safety). Pure with respect to the host: nothing is registered or written.
 */
export async function loadSkillPackage(
  source: string,
  policy: SkillLoadPolicy,
  compiler: JsonSchemaCompiler,
  limits: PackageLimits = PACKAGE_LIMITS,
): Promise<SkillPackage> {
  const files = await readSkillPackage(source, limits);
  const validated = validateManifest(files.manifestLabel, files.manifestText, policy, compiler);
  const entry = await files.readMember(validated.manifest.entry, 'entry', limits.maxEntryBytes);
  return {
    ...validated,
    source: files.source,
    code: {
      skillId: validated.manifest.skill_id,
      entryLabel: entry.label,
      manifestLabel: files.manifestLabel,
      code: entry.text,
      operationIds: validated.manifest.operations.map((o) => o.id),
    },
  };
}
