import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostSupervisor } from '../../../main/electron/host-supervisor.ts';
import { HOST_NODE_FLAGS } from '../../../main/host-node-flags.ts';
import { projectPath } from '../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/**
 * A stand-in for `dist/main/cli.js`: writes the flags its Node runs under into the data dir,
 * prints the line `ccos serve` prints once it listens, then waits to be stopped.
 */
const REPORTING_CLI = `
const fs = require('node:fs');
const dataDir = process.argv[process.argv.indexOf('--data-dir') + 1];
fs.writeFileSync(dataDir + '/exec-argv.json', JSON.stringify(process.execArgv));
process.stdout.write('Open the UI: http://127.0.0.1:1/login\\n');
setInterval(() => undefined, 1000);
`;

describe('the host runs under HOST_NODE_FLAGS wherever it is started', () => {
  let dir: string | undefined;
  let supervisor: HostSupervisor | undefined;
  afterEach(async () => {
    await supervisor?.dispose();
    if (dir !== undefined) await removeTempDir(dir);
  });

  it('the desktop shell starts its host child with them', async () => {
    dir = await makeTempDir('ccos-host-flags-');
    const cliPath = path.join(dir, 'cli.cjs');
    await writeFile(cliPath, REPORTING_CLI);
    const ready = new Promise<string>((resolve) => {
      supervisor = new HostSupervisor({
        nodePath: process.execPath,
        cliPath,
        dataDir: dir as string,
        onReady: resolve,
      });
    });
    supervisor?.start();
    await expect(ready).resolves.toBe('http://127.0.0.1:1/login');
    const execArgv = JSON.parse(
      await readFile(path.join(dir, 'exec-argv.json'), 'utf8'),
    ) as unknown;
    expect(execArgv).toEqual(HOST_NODE_FLAGS);
  });

  it('the CLI shebang and the npm scripts that start a host name the same flags', async () => {
    const shebang = (await readFile(projectPath('main', 'cli.ts'), 'utf8')).split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${HOST_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.ccos).toContain(`node ${HOST_NODE_FLAGS.join(' ')} dist/main/cli.js`);
    // The benchmarks run hosts in their own process: under the flags a user's host has.
    expect(pkg.scripts.bench).toContain(`node ${HOST_NODE_FLAGS.join(' ')} dist/test/bench/run.js`);
    const start = await readFile(projectPath('scripts', 'start.mjs'), 'utf8');
    expect(start).toContain('...HOST_NODE_FLAGS,');
  });
});
