import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The Electron executable `npm install` left, or undefined. Electron 45 downloads its binary
 * lazily (on first `require('electron')` from Node), which cannot work offline: this only
 * looks, so `npm start` and the browser tests decide without triggering a download.
 */
export function electronBinary(projectRoot: string): string | undefined {
  const dir = path.join(projectRoot, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = path.join(override ?? path.join(dir, 'dist'), relative);
  return existsSync(binary) ? binary : undefined;
}

/** A screen to show a window on: always on macOS and Windows, else an X11 or Wayland display. */
export function hasDesktop(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return (env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '';
}
