import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository root, found by walking up to package.json, so a test helper or bench
 * finds `plugins/` and fixtures both from source (vitest) and compiled into dist/
 * (`npm run bench`), where relative `../..` paths land in different places.
 */
const PROJECT_ROOT = ((): string => {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
})();

/** A path inside the repository, e.g. `projectPath('plugins', 'echo-notes')`. */
export function projectPath(...segments: string[]): string {
  return path.join(PROJECT_ROOT, ...segments);
}
