import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { JsonSchemaCompiler } from '../../../main/skills/manifest/compile-json-schema.ts';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import { SkillRegistry } from '../../../main/skills/registry/skill-registry.ts';
import { appErrorCodeOf } from '../../support/app-error-code.ts';

/**
 * Issue 17 #24: schema patterns come from untrusted skill documents and Ajv runs them on the
 * host's main thread. They must run on a linear-time engine, and patterns that engine cannot
 * run are refused at load. Without the fix the near-miss validations below never return
 * (V8 backtracks 2^100000 ways) and the refusals load fine.
 */

const HOSTILE = '^(a+)+$';
/** A near miss: V8's backtracking engine tries every split of the a's before failing. */
const NEAR_MISS = `${'a'.repeat(100_000)}!`;

const roots: string[] = [];
const registries: SkillRegistry[] = [];
afterEach(async () => {
  for (const r of registries.splice(0)) r.dispose();
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

function manifest(op: Record<string, unknown>): Record<string, unknown> {
  return {
    skill_id: 'pattern-skill',
    version: '1.0.0',
    name: 'Pattern skill',
    description: 'Carries a schema pattern.',
    entry: 'index.js',
    operations: [
      {
        id: 'run',
        description: 'Returns what it is told to.',
        input_schema: { type: 'object' },
        capabilities: ['compute.pure'],
        approval: 'never',
        ...op,
      },
    ],
    permissions: { egress: [], secrets: [], memory_namespaces: [] },
  };
}

async function install(m: Record<string, unknown>, code: string): Promise<SkillRegistry> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ccos-pattern-'));
  roots.push(root);
  const dir = path.join(root, 'skill');
  await mkdir(dir);
  await writeFile(path.join(dir, 'skill.json'), JSON.stringify(m));
  await writeFile(path.join(dir, 'index.js'), code);
  const registry = new SkillRegistry({
    sandbox: new IsolatedVmSandbox({ limits: { memoryLimitMb: 16 } }),
    policy: { capabilities: new Set(['compute.pure']), allowLoopbackHttp: false },
    host: {
      memory: { get: () => Promise.resolve(undefined), put: () => Promise.resolve() },
      secrets: () => Promise.resolve(undefined),
      log: () => undefined,
      audit: () => undefined,
    },
  });
  registries.push(registry);
  await registry.install(dir);
  return registry;
}

describe('hostile schema patterns', () => {
  test('a near-miss input against ^(a+)+$ in input_schema is refused, not backtracked', async () => {
    const registry = await install(
      manifest({
        input_schema: {
          type: 'object',
          properties: { text: { type: 'string', pattern: HOSTILE } },
        },
      }),
      'export async function run(input) { return input; }',
    );
    expect(await appErrorCodeOf(registry.call('pattern-skill', 'run', { text: NEAR_MISS }))).toBe(
      'INVALID_INPUT',
    );
    expect(await registry.call('pattern-skill', 'run', { text: 'aaaa' })).toEqual({ text: 'aaaa' });
  });

  test('a near-miss output against output_schema patterns is SKILL_BAD_OUTPUT', async () => {
    const registry = await install(
      manifest({
        output_schema: {
          type: 'object',
          properties: { text: { type: 'string', pattern: HOSTILE } },
          patternProperties: { [HOSTILE]: { type: 'number' } },
          propertyNames: { pattern: '^(t|e|x|(a+)+)+$' },
        },
      }),
      `export async function run() {
         const near = 'a'.repeat(100000) + '!';
         return { text: near, [near.slice(0, -1)]: 1 };
       }`,
    );
    expect(await appErrorCodeOf(registry.call('pattern-skill', 'run', {}))).toBe(
      'SKILL_BAD_OUTPUT',
    );
  });

  test('every pattern keyword goes through the linear engine, also for keys', () => {
    const compiler = new JsonSchemaCompiler();
    const byKey = compiler.compile({
      type: 'object',
      patternProperties: { [HOSTILE]: { type: 'string' } },
      propertyNames: { pattern: HOSTILE },
    });
    expect(byKey({ [NEAR_MISS]: 'x' }).ok).toBe(false);
    expect(byKey({ aaa: 'x' }).ok).toBe(true);
    expect(byKey({ aaa: 1 }).ok).toBe(false);
    // Two different patterns are two validators (Ajv caches patterns by their string form).
    const two = compiler.compile({
      type: 'object',
      properties: { a: { pattern: '^a$' }, b: { pattern: '^b$' } },
    });
    expect(two({ a: 'a', b: 'b' }).ok).toBe(true);
    expect(two({ a: 'b', b: 'a' }).ok).toBe(false);
  });

  test.each([
    ['a backreference', '^(a)\\1$', /backreference|invalid escape/],
    ['a named backreference', '^(?<x>a)\\k<x>$', /backreference/],
    ['a lookahead', '^(?=a)a$', /linear time/],
    ['a lookbehind', '(?<!a)b', /linear time/],
    ['a huge repetition', '(\\p{L}|\\p{N}){1000}$', /instructions, over the limit/],
    ['an invalid ECMA-262 pattern', '(?i)abc', /not a valid regular expression/],
  ])('%s is refused at load with a clear error', async (_what, pattern, reason) => {
    const m = manifest({
      output_schema: { type: 'object', properties: { s: { type: 'string', pattern } } },
    });
    let message = '';
    try {
      await install(m, 'export async function run() { return {}; }');
    } catch (e) {
      expect(isAppError(e, 'SKILL_INVALID')).toBe(true);
      message = (e as Error).message;
    }
    expect(message).toContain('operations[0].output_schema');
    expect(message).toContain(JSON.stringify(pattern));
    expect(message).toMatch(reason);
    expect(message).toMatch(/Fix: rewrite the pattern without backreferences/);
  });
});
