import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MANIFEST_FILE } from '../package/read-skill-package.ts';
import type { CompiledSkill } from './compile-declarative-skill.ts';

/** A compiled skill written as a package folder; `cleanup` removes it. */
export type CompiledSkillFolder = { dir: string; cleanup: () => Promise<void> };

/**
 * Writes `skill.json` and the generated entry into a fresh private temporary folder, so a
 * declarative skill installs through exactly the same path as a code skill folder.
 */
export async function writeCompiledSkill(compiled: CompiledSkill): Promise<CompiledSkillFolder> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ccos-declarative-'));
  const cleanup = (): Promise<void> => rm(root, { recursive: true, force: true });
  try {
    const dir = path.join(root, compiled.manifest.skill_id);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(compiled.manifest, null, 2));
    await writeFile(path.join(dir, compiled.manifest.entry), compiled.entry);
    return { dir, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
