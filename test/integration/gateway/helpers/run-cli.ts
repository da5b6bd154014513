import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The repository root: the CLI runs from source (Node 24 strips the types). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

export type CliResult = { code: number; stdout: string; stderr: string };

const CLI_TIMEOUT_MS = 20_000;

export function cliArgs(args: readonly string[]): string[] {
  return ['--no-node-snapshot', 'main/cli.ts', ...args];
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
