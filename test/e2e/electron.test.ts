import { _electron } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { electronBinary, hasDesktop } from '../../main/electron/electron-binary.ts';
import { projectPath } from '../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../support/test-store.ts';

/**
 * The packaged shell for real, where an Electron binary exists (Playwright's `_electron`):
 * the window shows the gateway's UI signed in, the page has the preload's bridge and no Node.
 * This machine's installs skip Electron's binary download, so here it prints why it skipped.
 */
const binary = electronBinary(projectPath());
const reason =
  binary === undefined
    ? 'no Electron binary'
    : hasDesktop()
      ? undefined
      : 'no display for an Electron window';
if (reason !== undefined) process.stderr.write(`skipped: ${reason}\n`);

describe.skipIf(reason !== undefined)('the Electron shell', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeTempDir(d);
  });

  it('opens the UI signed in, with the bridge and without Node in the page', async () => {
    const dataDir = await makeTempDir('ccos-electron-');
    dirs.push(dataDir);
    const app = await _electron.launch({
      executablePath: binary ?? '',
      args: [projectPath('dist', 'main', 'electron.js')],
      env: { ...process.env, CCOS_DATA_DIR: dataDir },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor({ timeout: 60_000 });
      expect(await page.evaluate('typeof window.ccos?.notify')).toBe('function');
      expect(await page.evaluate('typeof require')).toBe('undefined');
      expect(await page.evaluate('typeof process')).toBe('undefined');
    } finally {
      await app.close();
    }
  });
});
