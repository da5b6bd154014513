import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SkillManifest, SkillOperation } from '../../../../contracts/skills.ts';

/** An operation with the defaults most tests want: pure, never asks, any object input. */
export function operation(
  id: string,
  overrides: Partial<Omit<SkillOperation, 'id'>> = {},
): SkillOperation {
  return {
    id,
    description: `test operation ${id}`,
    input_schema: { type: 'object' },
    capabilities: ['compute.pure'],
    approval: 'never',
    ...overrides,
  };
}

/** A manifest for a test skill: version 1.0.0, entry `index.js`, no permissions unless given. */
export function manifest(
  skillId: string,
  operations: SkillOperation[],
  permissions: Partial<SkillManifest['permissions']> = {},
): SkillManifest {
  return {
    skill_id: skillId,
    version: '1.0.0',
    name: `Test skill ${skillId}`,
    description: `A skill written by a test (${skillId}).`,
    entry: 'index.js',
    operations,
    permissions: { egress: [], secrets: [], memory_namespaces: [], ...permissions },
  };
}

/** Writes `skill.json` and the entry into a fresh temporary folder. */
export async function writeSkillFolder(
  skill: SkillManifest,
  code: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ccos-exec-skill-'));
  const dir = path.join(root, skill.skill_id);
  await mkdir(dir);
  await writeFile(path.join(dir, 'skill.json'), JSON.stringify(skill, null, 2));
  await writeFile(path.join(dir, skill.entry), code);
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
