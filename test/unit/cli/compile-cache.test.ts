import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compileCacheDir,
  enableOwnCompileCache,
  unsafeCacheDir,
} from '../../../main/cli/compile-cache.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/**
 * The CLI's compile cache holds code the host will run: it must live in the person's own,
 * closed folder, never in a place another local user can write or redirect.
 */
describe('the compile cache folder', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('ccos-compile-cache-');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  it('is under XDG_CACHE_HOME when set, else ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe(
      '/x/cache/ccos-gateway/compile-cache',
    );
    expect(compileCacheDir({})).toMatch(/\.cache\/ccos-gateway\/compile-cache$/);
  });

  it('accepts only a real folder of this user, closed to others', async () => {
    const ok = path.join(root, 'ok');
    await mkdir(ok, { mode: 0o700 });
    expect(unsafeCacheDir(ok)).toBeUndefined();
    expect(unsafeCacheDir(path.join(root, 'missing'))).toBe('does not exist');
    const open = path.join(root, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    expect(unsafeCacheDir(open)).toBe('is open to other users');
    const file = path.join(root, 'file');
    await writeFile(file, '');
    expect(unsafeCacheDir(file)).toBe('is not a folder');
    // A link (another user's redirect) is refused even when it points at a good folder.
    const link = path.join(root, 'link');
    await symlink(ok, link);
    expect(unsafeCacheDir(link)).toBe('is not a folder');
  });

  it('stays off when asked, or when the folder is open to others, and the start goes on', async () => {
    expect(enableOwnCompileCache({ CCOS_COMPILE_CACHE: 'off', XDG_CACHE_HOME: root })).toBe(false);
    const dir = compileCacheDir({ XDG_CACHE_HOME: root });
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    expect(enableOwnCompileCache({ XDG_CACHE_HOME: root })).toBe(false);
  });
});
