import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { create as createTar } from 'tar';
import { afterEach, describe, expect, test } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import { SkillRegistry } from '../../../main/skills/registry/skill-registry.ts';

/** Every fail-fast load rule of ARCHITECTURE.md §7: each rejection names file, field and fix, and leaves no trace. */

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

const OP = {
  id: 'run',
  description: 'Does the thing.',
  input_schema: { type: 'object', properties: { q: { type: 'string' } } },
  capabilities: ['compute.pure'],
  approval: 'never',
};
const MANIFEST = {
  skill_id: 'good-skill',
  version: '1.0.0',
  name: 'Good skill',
  description: 'A valid skill used as the base of each broken one.',
  entry: 'index.js',
  operations: [OP],
  permissions: { egress: [], secrets: [], memory_namespaces: [] },
};
const CODE = 'export async function run(input) { return input; }\n';

async function skillDir(manifest: unknown, code = CODE, raw?: string): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ccos-rules-'));
  roots.push(root);
  const dir = path.join(root, 'skill');
  await mkdir(dir);
  await writeFile(path.join(dir, 'skill.json'), raw ?? JSON.stringify(manifest));
  await writeFile(path.join(dir, 'index.js'), code);
  return dir;
}

function registry(): SkillRegistry {
  return new SkillRegistry({
    sandbox: new IsolatedVmSandbox({ limits: { loadTimeoutMs: 500, memoryLimitMb: 16 } }),
    policy: { capabilities: new Set(['compute.pure']), allowLoopbackHttp: false },
    host: {
      memory: { get: () => Promise.resolve(undefined), put: () => Promise.resolve() },
      secrets: () => Promise.resolve(undefined),
      log: () => undefined,
      audit: () => undefined,
    },
  });
}

/** Installs and expects SKILL_INVALID naming `field` and `file`; checks the registry stayed empty. */
async function expectRejected(source: string, field: string, file: string): Promise<string> {
  const reg = registry();
  const heard: unknown[] = [];
  reg.subscribe((c) => heard.push(c));
  try {
    await reg.install(source);
  } catch (e) {
    expect(isAppError(e, 'SKILL_INVALID')).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain(field);
    expect(message).toContain(file);
    expect(message).toContain('Fix:');
    expect(reg.list()).toEqual([]);
    expect(reg.tools()).toEqual([]);
    expect(heard).toEqual([]);
    reg.dispose();
    return message;
  }
  reg.dispose();
  throw new Error('expected SKILL_INVALID');
}

const withOp = (patch: Record<string, unknown>) => ({
  ...MANIFEST,
  operations: [{ ...OP, ...patch }],
});
const withEgress = (origin: string, methods: string[] = ['GET']) => ({
  ...MANIFEST,
  permissions: { ...MANIFEST.permissions, egress: [{ origin, methods }] },
});
const NO_ID: Record<string, unknown> = { ...MANIFEST };
delete NO_ID.skill_id;

describe('manifest rules', () => {
  test('the base manifest loads (so each rejection below is caused by its one change)', async () => {
    const reg = registry();
    await reg.install(await skillDir(MANIFEST));
    expect(reg.list().map((s) => s.skill_id)).toEqual(['good-skill']);
    reg.dispose();
  });

  test.each([
    ['missing skill_id', NO_ID, 'skill_id'],
    ['malformed skill_id', { ...MANIFEST, skill_id: 'Bad_Skill!' }, 'skill_id'],
    ['bad version', { ...MANIFEST, version: 'v1' }, 'version'],
    ['zero operations', { ...MANIFEST, operations: [] }, 'operations'],
    [
      'unregistered capability',
      withOp({ capabilities: ['shell.exec'] }),
      'operations[0].capabilities[0]',
    ],
    ['no capabilities', withOp({ capabilities: [] }), 'operations[0].capabilities'],
    ['bad approval', withOp({ approval: 'sometimes' }), 'operations[0].approval'],
    ['operation id not an identifier', withOp({ id: 'do-it' }), 'operations[0].id'],
    [
      'invalid input_schema',
      withOp({ input_schema: { type: 'object', properties: { q: { type: 'strng' } } } }),
      'operations[0].input_schema',
    ],
    [
      'input_schema with unknown keyword',
      withOp({ input_schema: { type: 'object', requird: ['q'] } }),
      'operations[0].input_schema',
    ],
    [
      'input_schema not an object schema',
      withOp({ input_schema: { type: 'string' } }),
      'operations[0].input_schema',
    ],
    [
      'invalid output_schema',
      withOp({ output_schema: { type: 42 } }),
      'operations[0].output_schema',
    ],
    ['duplicate operation ids', { ...MANIFEST, operations: [OP, OP] }, 'operations[1].id'],
    ['wildcard origin', withEgress('https://*.example.com'), 'permissions.egress[0].origin'],
    ['non-https origin', withEgress('http://api.example.com'), 'permissions.egress[0].origin'],
    [
      'loopback http when policy forbids it',
      withEgress('http://127.0.0.1:8080'),
      'permissions.egress[0].origin',
    ],
    [
      'origin with a path',
      withEgress('https://api.example.com/v1'),
      'permissions.egress[0].origin',
    ],
    [
      'origin with credentials',
      withEgress('https://user:pw@api.example.com'),
      'permissions.egress[0].origin',
    ],
    [
      'unknown method',
      withEgress('https://api.example.com', ['CONNECT']),
      'permissions.egress[0].methods[0]',
    ],
    [
      'bad secret name',
      { ...MANIFEST, permissions: { ...MANIFEST.permissions, secrets: ['$HOME'] } },
      'permissions.secrets[0]',
    ],
    ['unknown top-level field', { ...MANIFEST, install_script: 'curl x | sh' }, '(root)'],
    ['entry outside the folder', { ...MANIFEST, entry: '../../etc/passwd' }, 'entry'],
    ['missing entry file', { ...MANIFEST, entry: 'nope.js' }, 'entry'],
  ])('%s is rejected naming %s', async (_name, manifest, field) => {
    const dir = await skillDir(manifest);
    await expectRejected(dir, field, path.join(dir, 'skill.json'));
  });

  test('a manifest that is not JSON is rejected naming the file', async () => {
    const dir = await skillDir(undefined, CODE, '{ "skill_id": ');
    await expectRejected(dir, '(root)', 'skill.json');
  });
});

describe('entry rules', () => {
  test.each([
    ['does not compile', 'export async function run( {', 'does not compile'],
    [
      'does not export a declared operation',
      'export async function other() {}',
      'operations[0].id',
    ],
    [
      'exports a non-function under the operation name',
      'export const run = 42;',
      'operations[0].id',
    ],
    [
      'imports a module',
      "import fs from 'node:fs';\nexport async function run() { return fs; }",
      'imports',
    ],
    [
      'throws at load',
      "throw new Error('nope');\nexport async function run() {}",
      'threw while loading',
    ],
    ['loops forever at load', 'for (;;) {}\nexport async function run() {}', 'ran out of time'],
  ])('an entry that %s is rejected', async (_name, code, text) => {
    const dir = await skillDir(MANIFEST, code);
    const message = await expectRejected(dir, text, 'index.js');
    expect(message).toContain('Fix:');
  });

  test('an entry that is a symbolic link is rejected', async () => {
    const dir = await skillDir(MANIFEST);
    await rm(path.join(dir, 'index.js'));
    const outside = path.join(path.dirname(dir), 'outside.js');
    await writeFile(outside, CODE);
    await symlink(outside, path.join(dir, 'index.js'));
    await expectRejected(dir, 'symbolic link', 'skill.json');
  });
});

describe('.tgz packages', () => {
  async function tgz(
    dir: string,
    files: string[],
    options: { preservePaths?: boolean; prefix?: string } = {},
  ): Promise<string> {
    const file = path.join(path.dirname(dir), 'skill.tgz');
    await createTar({ gzip: true, file, cwd: dir, portable: true, ...options }, files);
    return file;
  }

  test('a valid archive loads, also with a single top-level folder', async () => {
    const dir = await skillDir(MANIFEST);
    const reg = registry();
    await reg.install(await tgz(dir, ['skill.json', 'index.js']));
    const nested = await tgz(path.dirname(dir), ['skill/skill.json', 'skill/index.js']);
    await reg.install(nested);
    expect(reg.list()).toHaveLength(1);
    reg.dispose();
  });

  test('an archive entry that climbs out of the package is rejected', async () => {
    const dir = await skillDir(MANIFEST);
    await writeFile(path.join(path.dirname(dir), 'evil.js'), CODE);
    const file = await tgz(dir, ['skill.json', 'index.js', '../evil.js'], { preservePaths: true });
    await expectRejected(file, '../evil.js', 'skill.tgz');
  });

  test('an archive holding a symbolic link is rejected', async () => {
    const dir = await skillDir(MANIFEST);
    await symlink('/etc/passwd', path.join(dir, 'link.js'));
    const file = await tgz(dir, ['skill.json', 'index.js', 'link.js']);
    await expectRejected(file, 'SymbolicLink', 'skill.tgz');
  });

  test('an archive that unpacks over the size limit is rejected', async () => {
    const dir = await skillDir(MANIFEST);
    // Compresses to almost nothing: the limit must count unpacked bytes, not archive bytes.
    await writeFile(path.join(dir, 'padding.txt'), Buffer.alloc(11 * 1024 * 1024));
    const file = await tgz(dir, ['skill.json', 'index.js', 'padding.txt']);
    await expectRejected(file, 'unpacks to more than', 'skill.tgz');
  });

  test('an archive without skill.json is rejected', async () => {
    const dir = await skillDir(MANIFEST);
    await expectRejected(await tgz(dir, ['index.js']), 'skill.json', 'skill.tgz');
  });
});
