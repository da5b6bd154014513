import path from 'node:path';
import type { Logger } from 'pino';
import { policyPackSchema, type PolicyPack } from '../../contracts/policy.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { BUILTIN_POLICY_PACKS } from './builtin-packs.ts';
import { loadPackFiles, packFilesInvalid, type PackFile } from './pack-files.ts';
import { stampedVersionOf } from './pack-version.ts';
import { PolicyPacks } from './policy-packs.ts';

/** The data dir's folder of pack files. */
export const DATA_DIR_POLICIES = 'policies';

/**
 * Reads the pack files a host starts with: the data dir's `policies/` (may be absent) and
 * `--policy-dir` (must exist). Done before anything else starts: an invalid file stops
 * start-up with every problem listed as file:line:col.
 */
export async function readHostPackFiles(options: {
  dataDir: string;
  policyDir: string | null;
}): Promise<PackFile[]> {
  const files = await loadPackFiles([
    { dir: path.join(options.dataDir, DATA_DIR_POLICIES), required: false },
    ...(options.policyDir === null ? [] : [{ dir: options.policyDir, required: true }]),
  ]);
  // The built-in ids mean what the product ships, on every machine: a file names its own pack.
  const builtin = new Set(BUILTIN_POLICY_PACKS.map((p) => p.id));
  const clashes = files.filter((f) => builtin.has(f.pack.id));
  if (clashes.length > 0)
    throw packFilesInvalid(
      clashes.map((f) => ({
        file: f.file,
        line: 1,
        col: 1,
        field: 'id',
        message: `"${f.pack.id}" is a built-in pack; give this pack an id of its own`,
      })),
    );
  return files;
}

/**
 * The host's packs: built-ins, those a program passed (tests, embedders), the files, and every
 * version a run was created under (from the database), so a run keeps its rules after its
 * file was edited or removed.
 */
export async function hostPolicyPacks(options: {
  files: readonly PackFile[];
  settings: readonly PolicyPack[];
  db: Kysely<Database>;
  logger: Logger;
}): Promise<PolicyPacks> {
  const fileOf = new Map(options.files.map((f) => [f.pack.id, f.file]));
  const settings = new Set(options.settings.map((p) => p.id));
  const rows = await options.db.selectFrom('policy_pack_versions').selectAll().execute();
  const pinned: PolicyPack[] = [];
  for (const row of rows) {
    const parsed = policyPackSchema.safeParse(JSON.parse(row.content));
    // A stored version this build cannot read, or whose content does not hash to its name,
    // is left out: its runs follow the pack's current content, and the log says so.
    if (!parsed.success || stampedVersionOf(parsed.data) !== row.version) {
      options.logger.warn(
        { version: row.version, pack: row.pack_id },
        'a stored policy pack version is unreadable; its runs follow the current pack',
      );
      continue;
    }
    pinned.push(parsed.data);
  }
  return new PolicyPacks(
    [...BUILTIN_POLICY_PACKS, ...options.settings, ...options.files.map((f) => f.pack)],
    {
      pinned,
      sourceOf: (id) => {
        const file = fileOf.get(id);
        if (file !== undefined) return { kind: 'file', path: file };
        return settings.has(id) ? { kind: 'settings' } : { kind: 'builtin' };
      },
    },
  );
}
