import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { projectPath } from '../../support/project-path.ts';

/** Where Debian (and most distributions) put Chromium; `CCOS_CHROMIUM` overrides. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The flags every browser test runs Chromium with (headless, nothing from the network). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium to drive, or undefined when this machine has none. */
export function chromiumPath(): string | undefined {
  const configured = process.env.CCOS_CHROMIUM;
  if (configured !== undefined && configured !== '') return configured;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Whether browser tests run here. In CI they must (`.ci/run` installs Chromium): a missing
 * browser is a failure there, not a skip. Elsewhere they skip with a message saying how to
 * get one.
 */
export function browserTestsSkipReason(): string | undefined {
  if (chromiumPath() !== undefined) return undefined;
  const reason =
    'no Chromium installed (apt-get install chromium, or set CCOS_CHROMIUM): browser tests skipped';
  if (process.env.CI === 'true') throw new Error(`CI must run the browser tests, but ${reason}`);
  // Said once per file, so a local run shows why nothing ran.
  process.stderr.write(`skipped: ${reason}\n`);
  return reason;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('no Chromium');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** The renderer as `vite build` made it; an absent or stale build would test old pages. */
export const RENDERER_BUILD = projectPath('dist', 'renderer');

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    const full = path.join(dir, e.name);
    return Math.max(n, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);
}

export function requireRendererBuild(): string {
  const index = path.join(RENDERER_BUILD, 'index.html');
  if (!existsSync(index))
    throw new Error('the renderer is not built: run `npm run build` (npm test does) first');
  if (newest(projectPath('renderer')) > statSync(index).mtimeMs)
    throw new Error('the renderer build is older than renderer/: run `npm run build` first');
  return RENDERER_BUILD;
}

/** Where the browser tests save a screenshot of each page (copies in docs/screenshots/ for the README). */
export const SCREENSHOTS = process.env.CCOS_SCREENSHOT_DIR ?? projectPath('dist', 'screenshots');
