import { readdir, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../../main/cli/compile-cache.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { runCli } from './helpers/run-cli.ts';

/** The built `ccos` keeps its compiled code in the person's own closed cache folder. */
describe('ccos and its compile cache', () => {
  let cacheHome: string;
  beforeEach(async () => {
    cacheHome = await makeTempDir('ccos-cache-home-');
  });
  afterEach(async () => {
    await removeTempDir(cacheHome);
  });

  it('fills an owner-only folder under XDG_CACHE_HOME, and writes none with CCOS_COMPILE_CACHE=off', async () => {
    const dir = compileCacheDir({ XDG_CACHE_HOME: cacheHome });
    const off = await runCli(['--help'], { XDG_CACHE_HOME: cacheHome, CCOS_COMPILE_CACHE: 'off' });
    expect(off.code, off.stderr).toBe(0);
    expect(await readdir(cacheHome)).toEqual([]);

    const on = await runCli(['--help'], { XDG_CACHE_HOME: cacheHome });
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('Usage: ccos');
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
    expect((await readdir(dir, { recursive: true })).length).toBeGreaterThan(0);
  });
});
