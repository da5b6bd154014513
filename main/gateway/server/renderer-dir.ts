import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where `vite build` puts the renderer: `dist/renderer` beside the package.json above this
 * file, found by walking up so the host finds it both from source (tests) and compiled
 * into `dist/main/` (`npm start`), where relative paths land in different places.
 */
export function defaultRendererDir(from: string = import.meta.dirname): string | null {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return path.join(dir, 'dist', 'renderer');
}
