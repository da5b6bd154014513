import { lstatSync, mkdirSync } from 'node:fs';
// The module object, not a named import: Node < 24 lacks `enableCompileCache`, and a missing
// named export fails the link before main/cli/require-node24.ts can say why.
import nodeModule from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * Where `ccos` keeps V8's compiled code between starts: the person's own cache folder,
 * never the shared temp dir Node defaults to — a cached entry is code, and another local
 * user who can write there could make the host run theirs.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'ccos-gateway', 'compile-cache');
}

/**
 * Why a folder may not hold the compile cache, or undefined when it may: it must be a real
 * folder (not a link) owned by this user and closed to everyone else.
 */
export function unsafeCacheDir(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir, { throwIfNoEntry: false });
  } catch {
    return 'cannot be read';
  }
  if (st === undefined) return 'does not exist';
  if (!st.isDirectory()) return 'is not a folder';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return 'belongs to another user';
  if ((st.mode & 0o077) !== 0) return 'is open to other users';
  return undefined;
}

/**
 * Turns on Node's compile cache in the person's cache folder (~0.2 s off each start), or
 * leaves it off — `CCOS_COMPILE_CACHE=off`, or a folder that fails `unsafeCacheDir` — without
 * failing the start: the cache only makes it faster.
 */
export function enableOwnCompileCache(env: NodeJS.ProcessEnv): boolean {
  if (env.CCOS_COMPILE_CACHE === 'off') return false;
  const dir = compileCacheDir(env);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return false;
  }
  if (unsafeCacheDir(dir) !== undefined) return false;
  try {
    if (typeof nodeModule.enableCompileCache !== 'function') return false;
    nodeModule.enableCompileCache(dir);
    return true;
  } catch {
    return false;
  }
}
