import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Kysely } from 'kysely';
import { afterEach, expect, test } from 'vitest';
import { skillManifestSchema } from '../../../contracts/skills.ts';
import { SkillsRepository } from '../../../main/skills/install/skills-repository.ts';
import type { Database } from '../../../main/store/schema.ts';
import { up } from '../../../main/store/migrations/0003-skills.ts';
import { up as upLoadErrors } from '../../../main/store/migrations/0090-skill-load-errors.ts';
import { createSqliteDialect } from '../../../main/store/sqlite-dialect.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { PLUGINS } from './skill-test-kit.ts';

let dir: string | undefined;
let db: Kysely<Database> | undefined;
afterEach(async () => {
  await db?.destroy();
  if (dir !== undefined) await removeTempDir(dir);
});

test('migrations 0003 and 0090 create the skills table and the repository round-trips installs', async () => {
  dir = await makeTempDir('ccos-skills-repo-');
  db = new Kysely({ dialect: createSqliteDialect({ filename: path.join(dir, 'db.sqlite') }) });
  await up(db as unknown as Kysely<unknown>);
  await upLoadErrors(db as unknown as Kysely<unknown>);
  const repo = new SkillsRepository(db);
  const manifest = skillManifestSchema.parse(
    JSON.parse(await readFile(path.join(PLUGINS, 'echo-notes', 'skill.json'), 'utf8')),
  );
  const installed = {
    skill_id: 'echo-notes',
    version: '1.0.0',
    manifest,
    source: '/x',
    enabled: true,
    installed_at: '2026-01-01T00:00:00.000Z',
  };
  await repo.save(installed);
  await repo.save({ ...installed, version: '1.1.0', manifest: { ...manifest, version: '1.1.0' } });
  await repo.setEnabled('echo-notes', false);
  expect(await repo.list()).toEqual([
    { ...installed, version: '1.1.0', manifest: { ...manifest, version: '1.1.0' }, enabled: false },
  ]);
  const loadError = {
    code: 'SKILL_INVALID' as const,
    message: 'entry does not compile',
    at: '2026-01-02T00:00:00.000Z',
  };
  await repo.setEnabled('echo-notes', true);
  await repo.markFailed('echo-notes', loadError);
  expect(await repo.list()).toMatchObject([{ enabled: false, load_error: loadError }]);
  await repo.remove('echo-notes');
  expect(await repo.list()).toEqual([]);
});
