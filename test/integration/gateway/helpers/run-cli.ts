import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { HOST_NODE_FLAGS } from '../../../../main/host-node-flags.ts';

/** The repository root. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

/**
 * The CLI as built by `tsc -b` (which `npm test` runs first), as users run it: starting it
 * from source costs ~2.6 s a call in type stripping, which made these tests time out on a
 * loaded machine. A build older than the source would test old code, so that is an error.
 */
const BUILT_CLI = path.join(REPO_ROOT, 'dist', 'main', 'cli.js');
const BUILD_INFO = path.join(REPO_ROOT, 'dist', '.tsbuild', 'main.tsbuildinfo');

function newestSource(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return Math.max(newest, newestSource(full));
    return e.name.endsWith('.ts') ? Math.max(newest, statSync(full).mtimeMs) : newest;
  }, 0);
}

function builtCli(): string {
  if (!existsSync(BUILT_CLI) || !existsSync(BUILD_INFO))
    throw new Error('the CLI is not built: run `npx tsc -b` (npm test does) before these tests');
  const built = statSync(BUILD_INFO).mtimeMs;
  const source = Math.max(
    newestSource(path.join(REPO_ROOT, 'main')),
    newestSource(path.join(REPO_ROOT, 'contracts')),
  );
  if (source > built)
    throw new Error('the built CLI is older than main/ or contracts/: run `npx tsc -b` first');
  return BUILT_CLI;
}

export type CliResult = { code: number; stdout: string; stderr: string };

const CLI_TIMEOUT_MS = 20_000;

export function cliArgs(args: readonly string[]): string[] {
  return [...HOST_NODE_FLAGS, builtCli(), ...args];
}

/** Runs `ccos <args>` as a child process and waits for it to exit. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      cliArgs(args),
      {
        cwd: REPO_ROOT,
        // Nothing from the test's own environment may point the CLI at another host.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        timeout: CLI_TIMEOUT_MS,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `ccos <args>` without waiting; the caller ends it. */
export function spawnCli(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, cliArgs(args), {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
