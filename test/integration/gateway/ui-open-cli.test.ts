import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { runCli, spawnCli } from './helpers/run-cli.ts';

/** Waits for the first stdout line matching `pattern` (an event, not a time). */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m !== null) resolve(m);
    });
    child.once('exit', (code) => {
      reject(new Error(`serve exited (${code}) before printing the link: ${err}`));
    });
  });
}

describe('the login link from the command line', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await removeTempDir(dir);
  });

  it('`ccos serve` prints a link that signs a browser in once; `ccos open` prints a new one', async () => {
    dir = await makeTempDir('ccos-open-');
    child = spawnCli(['--data-dir', dir, 'serve', '--port', '0', '--log-level', 'silent']);
    const printed = await lineMatching(
      child,
      /Open the UI: (http:\/\/127\.0\.0\.1:\d+\/login\?code=\S+)/,
    );
    const first = printed[1] ?? '';
    expect((await fetch(first)).status).toBe(200);
    expect((await fetch(first)).status).toBe(401);

    const opened = await runCli(['--data-dir', dir, 'open']);
    expect(opened.code, opened.stderr).toBe(0);
    const second = opened.stdout.trim();
    expect(second).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?code=/);
    expect(second).not.toBe(first);
    const res = await fetch(second);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().join()).toContain('HttpOnly');
  });
});
