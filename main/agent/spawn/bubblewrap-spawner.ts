import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { WorkerIsolation } from '../../../contracts/agent-isolation.ts';
import { DEFAULT_JAIL_LIMITS, bwrapArgs, type JailLimits, type JailTools } from './jail-args.ts';
import { JailedWorker } from './jailed-worker.ts';
import { seccompArchOf, seccompProgram } from './seccomp-filter.ts';
import {
  spawnFor,
  type SpawnWorkerOptions,
  type SpawnedWorker,
  type Spawner,
  type StartWorkerOptions,
  type WorkerExit,
} from './spawner.ts';
import {
  WORKER_MAX_OLD_SPACE_MB,
  chosenWorkerProgram,
  permissionModelArgs,
  workerProgramArgs,
  workerReadPaths,
  type WorkerProgram,
} from './worker-files.ts';

export type BubblewrapSpawnerOptions = {
  /** What detection found (`detectJail`). */
  tools: JailTools;
  /**
   * The worker program as a script; defaults to `defaultWorkerProgram` (the built worker's
   * snapshot, or main/agent/worker/worker-main as source or built).
   */
  entry?: string;
  /** The worker program (a script or a snapshot); wins over `entry`. */
  program?: WorkerProgram;
  /**
   * Node's permission model inside the jail, the second layer (default on). Off only to
   * measure what the jail blocks by itself (the escape suite's table); the host never
   * turns it off.
   */
  permissionModel?: boolean;
  /** Overrides of `DEFAULT_JAIL_LIMITS` (tests use a small CPU limit). */
  limits?: Partial<JailLimits>;
  /**
   * Told when a jail ended before its worker ran because its limits could not be set
   * (`runId` undefined: a worker started before it had a run).
   */
  onJailFailure?: (runId: string | undefined, message: string) => void;
};

/** What a probe printed and how it ended. */
export type ProbeResult = { stdout: string; stderr: string; exit: WorkerExit };

/**
 * Starts each worker in a bubblewrap jail (Linux; ARCHITECTURE.md §8): new user, PID,
 * network, IPC, UTS and cgroup namespaces, a read-only root holding only what the worker
 * needs, a private tmpfs, no capabilities, a seccomp filter, kernel resource limits, and
 * Node's permission model inside as a second layer. The worker's stdio is its only way
 * out. What each layer blocks is measured by the escape suite and tabled in
 * docs/agent-jail.md.
 *
 * The host forks once per worker (bwrap): the limits are set inside the jail by its first
 * program, prlimit, which then execs the worker (`limitedCommand`), so nothing on the host
 * waits on the jail or forks again before the worker runs.
 *
 * Nothing in a jail depends on its run — the binds, limits and filter are the same for every
 * worker — so a jail can be built before a segment needs it (the pool, issue 18). The run and
 * its token arrive afterwards as the first line on the worker's stdin (`handOff`): neither
 * bwrap's environment nor its argv (which other local users can read) ever holds the token.
 */
export class BubblewrapSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'bubblewrap';
  readonly #tools: JailTools;
  readonly #limits: JailLimits;
  readonly #readPaths: readonly string[];
  readonly #nodeArgs: readonly string[];
  readonly #program: WorkerProgram;
  readonly #seccomp: Buffer | null;
  readonly #onJailFailure: BubblewrapSpawnerOptions['onJailFailure'];

  constructor(options: BubblewrapSpawnerOptions) {
    this.#tools = options.tools;
    this.#program = chosenWorkerProgram(options, options.tools.node);
    this.#limits = { ...DEFAULT_JAIL_LIMITS, ...options.limits };
    const readPaths = workerReadPaths(this.#program);
    this.#nodeArgs =
      options.permissionModel === false
        ? [`--max-old-space-size=${WORKER_MAX_OLD_SPACE_MB}`]
        : permissionModelArgs(readPaths);
    this.#readPaths = withRealPaths(readPaths);
    const arch = seccompArchOf(process.arch);
    this.#seccomp = arch === null ? null : seccompProgram(arch);
    this.#onJailFailure = options.onJailFailure;
  }

  /** Whether workers run under the seccomp filter (not built for every architecture). */
  get seccomp(): boolean {
    return this.#seccomp !== null;
  }

  /** The Node flags every worker runs under (before its program); for diagnostics and tests. */
  get nodeArgs(): readonly string[] {
    return this.#nodeArgs;
  }

  /** What every worker runs. */
  get program(): WorkerProgram {
    return this.#program;
  }

  start(options: StartWorkerOptions = {}): SpawnedWorker {
    const onJailFailure = this.#onJailFailure;
    const worker = this.#start(
      [this.#tools.node, ...this.#nodeArgs, ...workerProgramArgs(this.#program)],
      // Explicit and minimal: the host's environment (API keys, PATH, NODE_OPTIONS that could
      // grant permissions back) never reaches the worker, and neither does its token.
      { ...options.env, NODE_OPTIONS: '' },
      onJailFailure === undefined
        ? undefined
        : (message) => {
            onJailFailure(worker.runId, message);
          },
    );
    return worker;
  }

  /** Starts a jailed worker and hands it its run at once. */
  spawn(options: SpawnWorkerOptions): SpawnedWorker {
    return spawnFor(this, options);
  }

  /**
   * Runs the Node binary with `args` (not the workers' flags) in the same jail — the same
   * namespaces, binds, seccomp filter, and prlimit setting the same limits before it — and
   * collects what it printed: detection's proof that this machine can build the jail.
   */
  async probe(args: readonly string[]): Promise<ProbeResult> {
    const worker = this.#start([this.#tools.node, ...args], { NODE_OPTIONS: '' });
    let stdout = '';
    let stderr = '';
    worker.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    worker.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    worker.stdin.end();
    const exit = await worker.exited;
    // Its output is read to the end above, so the jail closes; only then is a failed
    // prlimit told apart.
    await worker.closed;
    const failure = worker.setupFailure;
    return { stdout, stderr: failure === undefined ? stderr : `${failure}\n${stderr}`, exit };
  }

  #start(
    command: readonly string[],
    env: Record<string, string>,
    onSetupFailure?: (message: string) => void,
  ): JailedWorker {
    const child = spawn(
      this.#tools.bwrap,
      bwrapArgs(this.#tools, {
        readPaths: this.#readPaths,
        limits: this.#limits,
        seccomp: this.#seccomp !== null,
        command,
      }),
      {
        env,
        // stdin, stdout, stderr, then the descriptor bwrap reads the seccomp program from.
        stdio: ['pipe', 'pipe', 'pipe', this.#seccomp === null ? 'ignore' : 'pipe'],
        shell: false,
        windowsHide: true,
        ...(this.#tools.runAs === null ? {} : this.#tools.runAs),
      },
    );
    return new JailedWorker(child, {
      prlimit: this.#tools.prlimit,
      seccomp: this.#seccomp,
      ...(onSetupFailure === undefined ? {} : { onSetupFailure }),
    });
  }
}

/**
 * The paths and, where a symlink leads elsewhere, their targets: Node opens modules by
 * their real path, which must exist inside the jail too.
 */
function withRealPaths(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    out.add(p);
    out.add(realpathSync(p));
  }
  return [...out];
}
