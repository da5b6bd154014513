import { spawn, type ChildProcess } from 'node:child_process';
import type { Disposable } from '../disposable.ts';
import { HOST_NODE_FLAGS } from '../host-node-flags.ts';

/** Backoff between restarts of a host that exits: 0.5 s, 1 s, 2 s … up to 30 s. */
const FIRST_RESTART_MS = 500;
const MAX_RESTART_MS = 30_000;
/** A host that ran this long before it exited starts the backoff from the beginning again. */
const STABLE_MS = 60_000;
/** How long a host has to exit after SIGTERM on quit before it is killed. */
const STOP_GRACE_MS = 10_000;
/** The line `ccos serve` prints once it listens (main/cli/serve-command.ts). */
const READY_LINE = /Open the UI: (http:\/\/\S+)/;

export type HostStatus = 'starting' | 'running' | 'restarting' | 'stopped';

export type HostSupervisorOptions = {
  /** The Node 24 binary the host runs under (isolated-vm does not run inside Electron). */
  nodePath: string;
  /** `dist/main/cli.js`. */
  cliPath: string;
  dataDir: string;
  /** Extra `serve` flags (e.g. `--llm-settings`). */
  serveArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  firstRestartMs?: number;
  maxRestartMs?: number;
  stableMs?: number;
  /** Each time the host is ready: its one-time login link (the window loads it). */
  onReady: (loginUrl: string) => void;
  onStatus?: (status: HostStatus, detail?: string) => void;
  /** Each scheduled restart and its delay (shown in the UI, and what tests observe). */
  onRestartScheduled?: (delayMs: number, exitCode: number | null) => void;
};

/**
 * Owns the host as a plain Node 24 child process (ARCHITECTURE.md §1): starts `ccos serve`,
 * restarts it with exponential backoff when it exits on its own, and stops it cleanly on
 * quit (SIGTERM, then SIGKILL after a grace period). Nothing restarts after `dispose`.
 */
export class HostSupervisor implements Disposable {
  readonly #options: HostSupervisorOptions;
  #child: ChildProcess | undefined;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #status: HostStatus = 'starting';

  constructor(options: HostSupervisorOptions) {
    this.#options = options;
  }

  get status(): HostStatus {
    return this.#status;
  }

  start(): void {
    if (this.#stopped || this.#child !== undefined) return;
    this.#setStatus(this.#failures === 0 ? 'starting' : 'restarting');
    const startedAt = Date.now();
    const child = spawn(
      this.#options.nodePath,
      [
        ...HOST_NODE_FLAGS,
        this.#options.cliPath,
        '--data-dir',
        this.#options.dataDir,
        'serve',
        ...(this.#options.serveArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: this.#options.env ?? process.env },
    );
    this.#child = child;
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const ready = READY_LINE.exec(out);
      if (ready?.[1] !== undefined) {
        out = '';
        this.#setStatus('running');
        this.#options.onReady(ready[1]);
      }
      // Only the last partial line is needed to find the ready line.
      if (out.length > 4096) out = out.slice(-1024);
    });
    child.once('error', (e) => {
      this.#setStatus('restarting', e.message);
    });
    child.once('exit', (code) => {
      this.#child = undefined;
      if (this.#stopped) {
        this.#setStatus('stopped');
        return;
      }
      if (Date.now() - startedAt >= (this.#options.stableMs ?? STABLE_MS)) this.#failures = 0;
      const delay = Math.min(
        (this.#options.firstRestartMs ?? FIRST_RESTART_MS) * 2 ** this.#failures,
        this.#options.maxRestartMs ?? MAX_RESTART_MS,
      );
      this.#failures += 1;
      this.#setStatus('restarting', `the host exited (${code ?? 'signal'}); restarting`);
      this.#options.onRestartScheduled?.(delay, code);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.start();
      }, delay);
    });
  }

  /** Stops the host (SIGTERM, SIGKILL after a grace period) and any pending restart. */
  async dispose(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const child = this.#child;
    if (child === undefined) {
      this.#setStatus('stopped');
      return;
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(kill);
  }

  #setStatus(status: HostStatus, detail?: string): void {
    this.#status = status;
    this.#options.onStatus?.(status, detail);
  }
}
