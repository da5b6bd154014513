import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isAppError } from '../../../main/errors.ts';
import { BUILTIN_POLICY_PACKS } from '../../../main/policy/builtin-packs.ts';
import {
  loadPackFiles,
  parsePackText,
  type PackFileProblem,
} from '../../../main/policy/pack-files.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';
import { DEFAULT_POLICY_PACK, PolicyPacks } from '../../../main/policy/policy-packs.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/** A valid pack file's text: the default pack under another id. */
const TEAM = stringify({ ...DEFAULT_POLICY_PACK, id: 'team', description: 'ours' });

function problemsOf(text: string, file = 'team.yaml'): PackFileProblem[] {
  const parsed = parsePackText(file, text);
  return parsed.problems;
}

describe('a policy pack file', () => {
  it('parses YAML and JSON to the same pack', () => {
    const yaml = parsePackText('team.yaml', TEAM);
    const json = parsePackText(
      'team.json',
      JSON.stringify({ ...DEFAULT_POLICY_PACK, id: 'team', description: 'ours' }),
    );
    expect(yaml.problems).toEqual([]);
    expect(json.pack).toEqual(yaml.pack);
  });

  it('reports every problem at once, each at its line and column', () => {
    const text = TEAM.replace('segment_max_steps: 10', 'segment_max_steps: -3').replace(
      'budget_on_exceed: hard_stop',
      'budget_on_exceed: hard_stop\nbudget_on_exced: approval',
    );
    const lines = text.split('\n');
    const lineOf = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix)) + 1;
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'segment_max_steps',
          line: lineOf('segment_max_steps'),
          col: 20,
        }),
        expect.objectContaining({
          field: 'budget_on_exced',
          message: 'unknown field',
          line: lineOf('budget_on_exced'),
        }),
      ]),
    );
    expect(problems).toHaveLength(2);
  });

  it('places a missing field at its parent, and a rule across fields at the field to fix', () => {
    const missing = problemsOf(TEAM.replace(/ {2}max_tokens: 200000\n/, ''));
    expect(missing).toEqual([expect.objectContaining({ field: 'default_budget.max_tokens' })]);
    const lines = TEAM.split('\n');
    const checkpoints = problemsOf(`${TEAM}segment_max_checkpoints: 10\n`);
    expect(checkpoints).toEqual([
      expect.objectContaining({
        field: 'segment_max_checkpoints',
        line: lines.length,
        message: 'must be more than segment_max_steps (10)',
      }),
    ]);
  });

  it('reports a syntax error where it is, and refuses aliases (no entity expansion)', () => {
    const broken = problemsOf('id: team\nversion: [1\n');
    expect(broken[0]).toMatchObject({ field: '(file)' });
    expect(broken[0]?.line).toBeGreaterThan(1);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a]'];
    const aliased = problemsOf(`${bomb.join('\n')}\n${TEAM}`);
    expect(aliased).toEqual([expect.objectContaining({ field: '(file)' })]);
    expect(aliased[0]?.message).toMatch(/alias/i);
  });

  it('refuses duplicate keys rather than keeping the last', () => {
    const twice = problemsOf(`${TEAM}id: other\n`);
    expect(twice[0]).toMatchObject({ field: '(file)' });
    expect(twice[0]?.message).toMatch(/unique|duplicate/i);
  });
});

describe('the stamped version', () => {
  it('is the label and a hash of the content: formatting and key order do not count', () => {
    const a = parsePackText('a.yaml', TEAM).pack;
    const reordered = parsePackText(
      'b.json',
      JSON.stringify(Object.fromEntries(Object.entries(a ?? {}).reverse()), null, 4),
    ).pack;
    if (a === undefined || reordered === undefined) throw new Error('packs should parse');
    expect(stampedVersionOf(a)).toMatch(/^1\+[0-9a-f]{16}$/);
    expect(stampedVersionOf(reordered)).toBe(stampedVersionOf(a));
  });

  it('changes with any value even when the label stays, and with the label', () => {
    const base = { ...DEFAULT_POLICY_PACK, id: 'team' };
    const edited = { ...base, approval_capabilities: ['net.http'] };
    expect(stampedVersionOf(edited)).not.toBe(stampedVersionOf(base));
    expect(stampedVersionOf({ ...base, version: '2' })).toMatch(/^2\+/);
  });

  it('keeps distinct ids apart: two packs with equal content but different ids differ', () => {
    expect(stampedVersionOf({ ...DEFAULT_POLICY_PACK, id: 'a' })).not.toBe(
      stampedVersionOf({ ...DEFAULT_POLICY_PACK, id: 'b' }),
    );
  });
});

describe('loading pack folders', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-packs-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('reads .yaml/.yml/.json in name order and ignores other files', async () => {
    await writeFile(path.join(dir, 'b.yml'), TEAM.replace('id: team', 'id: b'));
    await writeFile(path.join(dir, 'a.json'), JSON.stringify({ ...DEFAULT_POLICY_PACK, id: 'a' }));
    await writeFile(path.join(dir, 'notes.txt'), 'not a pack');
    const files = await loadPackFiles([{ dir, required: true }]);
    expect(files.map((f) => [path.basename(f.file), f.pack.id])).toEqual([
      ['a.json', 'a'],
      ['b.yml', 'b'],
    ]);
  });

  it('fails as a whole, listing problems of every file and duplicate ids across folders', async () => {
    const other = path.join(dir, 'other');
    await mkdir(other);
    await writeFile(path.join(dir, 'team.yaml'), TEAM);
    await writeFile(path.join(other, 'team.yaml'), TEAM);
    await writeFile(path.join(other, 'bad.yaml'), TEAM.replace('id: team', 'id: BAD ID'));
    const failure = await loadPackFiles([
      { dir, required: true },
      { dir: other, required: true },
    ]).catch((e: unknown) => e);
    expect(isAppError(failure, 'POLICY_PACK_INVALID')).toBe(true);
    const message = (failure as Error).message;
    expect(message).toContain(`${path.join(other, 'bad.yaml')}:1:5: id: `);
    expect(message).toContain(`${path.join(other, 'team.yaml')}:1:1: id: pack "team" is already`);
  });

  it('a missing optional folder is no pack; a missing required one is a problem', async () => {
    const absent = path.join(dir, 'absent');
    expect(await loadPackFiles([{ dir: absent, required: false }])).toEqual([]);
    const failure = await loadPackFiles([{ dir: absent, required: true }]).catch((e: unknown) => e);
    expect(isAppError(failure, 'POLICY_PACK_INVALID')).toBe(true);
  });

  it('refuses a file too large to be a pack before parsing it', async () => {
    await writeFile(path.join(dir, 'huge.yaml'), `${TEAM}# ${'x'.repeat(300 * 1024)}\n`);
    const failure = await loadPackFiles([{ dir, required: true }]).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(/huge\.yaml:1:1: \(file\): larger than/);
  });
});

describe('PolicyPacks', () => {
  it('stamps versions and keeps a run on the version it was created under', () => {
    const v1 = { ...DEFAULT_POLICY_PACK, id: 'team' };
    const v2 = { ...v1, approval_capabilities: [] };
    const now = new PolicyPacks([...BUILTIN_POLICY_PACKS, v2], { pinned: [v1] });
    expect(now.get('team').version).toBe(stampedVersionOf(v2));
    const oldRun = { policy_pack: 'team', policy_pack_version: stampedVersionOf(v1) };
    expect(now.forRun(oldRun).approval_capabilities).toEqual(['net.http', 'memory.write']);
    expect(now.forRun({ policy_pack: 'team', policy_pack_version: null }).version).toBe(
      stampedVersionOf(v2),
    );
    expect(now.list().map((p) => [p.id, p.source.kind])).toEqual([
      ['default', 'settings'],
      ['strict', 'settings'],
      ['local-dev', 'settings'],
      ['team', 'settings'],
      ['team', 'pinned'],
    ]);
  });

  it('ships default, strict and local-dev, each valid, with distinct versions', () => {
    const packs = new PolicyPacks(BUILTIN_POLICY_PACKS);
    const versions = ['default', 'strict', 'local-dev'].map((id) => packs.get(id).version);
    expect(new Set(versions).size).toBe(3);
    expect(packs.get('strict').approval_capabilities).toContain('memory.read');
  });
});
