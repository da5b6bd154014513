import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { skillDigest } from '../../../main/skills/package/skill-digest.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

// The real digest, counted: every caller in the host still gets what it computes.
vi.mock('../../../main/skills/package/skill-digest.ts', async (original) => {
  const real = await original<{ skillDigest: typeof skillDigest }>();
  return { skillDigest: vi.fn(real.skillDigest) };
});

const POST = 'poster__post';
const SKILL = manifest('poster', [operation('post', { approval: 'always' })]);
const CODE = `export async function post(input) { return { posted: input }; }`;

/**
 * Issue 18: a gated call's grant basis names the skill's digest (manifest and code, as
 * loaded). It is hashed once per loaded package, not on every call that asks a person; a
 * reload, even under the same version, hashes the new code.
 */
describe('the skill digest of gated calls', () => {
  let h: ExecuteTestHost;
  const hashed = vi.mocked(skillDigest);

  beforeAll(async () => {
    h = await startExecuteHost();
    await h.install(SKILL, CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('is hashed at most once for many gated calls of one loaded skill, and again after a reload', async () => {
    const before = hashed.mock.calls.length;
    for (let i = 0; i < 5; i++) paused(await h.execute(await h.runningRun(), POST, { n: i }));
    expect(hashed.mock.calls.length - before).toBeLessThanOrEqual(1);
    const first = h.started.skillRegistry.digestOf('poster');
    const loaded = h.started.skillRegistry.packageOf('poster');
    expect(first).toBe(skillDigest(loaded.manifest, loaded.code));

    await h.install(SKILL, `${CODE}\n// changed`);
    paused(await h.execute(await h.runningRun(), POST, { n: 'after' }));
    expect(h.started.skillRegistry.digestOf('poster')).not.toBe(first);
  });
});
