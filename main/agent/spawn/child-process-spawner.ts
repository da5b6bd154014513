import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../errors.ts';
import type { WorkerHandoff } from '../channel/worker-handoff.ts';
import { HandoffLatch } from './handoff-latch.ts';
import {
  spawnFor,
  type SpawnWorkerOptions,
  type SpawnedWorker,
  type Spawner,
  type StartWorkerOptions,
  type WorkerExit,
  type WorkerIsolation,
} from './spawner.ts';
import {
  chosenWorkerProgram,
  permissionModelArgs,
  workerProgramArgs,
  workerReadPaths,
  type WorkerProgram,
} from './worker-files.ts';

export type ChildProcessSpawnerOptions = {
  /**
   * The worker program as a script; defaults to `defaultWorkerProgram` (the built worker's
   * snapshot, or main/agent/worker/worker-main as source or built).
   */
  entry?: string;
  /** The worker program (a script or a snapshot); wins over `entry`. */
  program?: WorkerProgram;
  /** The Node binary; defaults to the host's own (Node 24). */
  nodePath?: string;
};

/**
 * Starts each worker as a plain child process of the host's own Node binary under Node's
 * permission model. Named for what it is, not a jail.
 *
 * What it confines: the worker cannot start processes (`child_process`), worker threads,
 * native addons or WASI, cannot write files anywhere, and can read only its own code
 * folder, the channel code, `contracts/`, the npm packages it imports and the package.json
 * Node consults for module type. Its environment holds nothing of the host's (no PATH, no
 * HOME, no NODE_OPTIONS) and no token: the run and its token arrive as the first line on its
 * stdin (`handOff`), so a worker can be started before it has a run. Its working directory is
 * an empty temporary folder, its heap is capped, and nothing goes through a shell.
 *
 * What it does NOT confine: the network (Node 24's permission model has no network rule;
 * a worker can open sockets and reach anything the host can), CPU time, the number of open
 * descriptors, or signals to other processes of the same user. The permission model is a
 * seat belt against a misbehaving worker, not a security boundary against hostile code
 * (Node's documentation says as much). The host uses it only where no jail works and a
 * person allowed that (`--unsafe-agents`), and then reports it as unsafe; the jail is
 * `BubblewrapSpawner`, which keeps these same flags inside as its second layer.
 */
export class ChildProcessSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'node_permission_model';
  readonly #program: WorkerProgram;
  readonly #nodePath: string;
  readonly #nodeArgs: readonly string[];

  constructor(options: ChildProcessSpawnerOptions = {}) {
    this.#nodePath = options.nodePath ?? process.execPath;
    this.#program = chosenWorkerProgram(options, this.#nodePath);
    this.#nodeArgs = permissionModelArgs(workerReadPaths(this.#program));
  }

  /** The flags every worker runs under (before its program); for diagnostics and tests. */
  get nodeArgs(): readonly string[] {
    return this.#nodeArgs;
  }

  /** What every worker runs. */
  get program(): WorkerProgram {
    return this.#program;
  }

  start(options: StartWorkerOptions = {}): SpawnedWorker {
    // Named for the host, not the run: a pre-started worker has no run yet.
    const cwd = mkdtempSync(join(tmpdir(), `ccos-worker-${String(process.pid)}-`));
    // Explicit and minimal: the host's environment (API keys, PATH, NODE_OPTIONS that could
    // grant permissions back) never reaches the worker, and neither does its token.
    const env: Record<string, string> = { ...options.env, NODE_OPTIONS: '' };
    const child = spawn(this.#nodePath, [...this.#nodeArgs, ...workerProgramArgs(this.#program)], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    return new ChildWorker(child, cwd);
  }

  /** Starts a worker and hands it its run at once. */
  spawn(options: SpawnWorkerOptions): SpawnedWorker {
    return spawnFor(this, options);
  }
}

/** One spawned worker process and its temporary working folder. */
class ChildWorker implements SpawnedWorker {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<WorkerExit>;
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #cwd: string;
  readonly #handoff: HandoffLatch;
  #hasExited = false;

  constructor(child: ChildProcessByStdio<Writable, Readable, Readable>, cwd: string) {
    this.#child = child;
    this.#cwd = cwd;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#hasExited = true;
        resolve({ code, signal });
      });
      // Without a listener a failed spawn or kill would be an uncaught 'error' in the host.
      child.on('error', () => {
        if (child.pid === undefined) {
          this.#hasExited = true;
          resolve({ code: null, signal: null });
        }
      });
    });
    if (child.pid === undefined) {
      rmSync(cwd, { recursive: true, force: true });
      throw new AppError('INTERNAL', 'the agent worker process could not be started');
    }
    this.pid = child.pid;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    // A worker that dies mid-write makes the host's next write fail with EPIPE; the channel
    // reports that, and this keeps it from becoming an uncaught exception.
    child.stdin.on('error', () => undefined);
    this.#handoff = new HandoffLatch(child.stdin);
  }

  get runId(): string | undefined {
    return this.#handoff.runId;
  }

  handOff(handoff: WorkerHandoff): void {
    this.#handoff.handOff(handoff);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.#hasExited) this.#child.kill(signal);
  }

  async dispose(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
    rmSync(this.#cwd, { recursive: true, force: true });
  }
}
