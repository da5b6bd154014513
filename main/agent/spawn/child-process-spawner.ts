import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.ts';
import type {
  SpawnWorkerOptions,
  SpawnedWorker,
  Spawner,
  WorkerExit,
  WorkerIsolation,
} from './spawner.ts';

/** Heap cap for a worker: a conversation and a tool list, nothing more. */
const WORKER_MAX_OLD_SPACE_MB = 256;

/**
 * The npm packages the worker imports (the MCP client and zod) and theirs. Listed, not
 * derived from the SDK's dependencies, which also name its HTTP server stack; an SDK
 * upgrade that imports more fails the worker with ERR_ACCESS_DENIED in the tests.
 */
const WORKER_PACKAGES = [
  '@modelcontextprotocol/sdk',
  'zod',
  'zod-to-json-schema',
  'ajv',
  'ajv-formats',
  'fast-deep-equal',
  'fast-uri',
  'json-schema-traverse',
  'require-from-string',
] as const;

export type ChildProcessSpawnerOptions = {
  /** The worker program; defaults to main/agent/worker/worker-main (the .ts source or the built .js). */
  entry?: string;
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
 * Node consults for module type. Its environment holds the token and nothing else (no PATH,
 * no HOME, no NODE_OPTIONS from the host's environment), its working directory is an empty
 * temporary folder, its heap is capped, and nothing goes through a shell.
 *
 * What it does NOT confine: the network (Node 24's permission model has no network rule;
 * a worker can open sockets and reach anything the host can), CPU time, the number of open
 * descriptors, or signals to other processes of the same user. The permission model is a
 * seat belt against a misbehaving worker, not a security boundary against hostile code
 * (Node's documentation says as much). The jail issue adds bubblewrap with a new network
 * namespace and a read-only filesystem behind the same `Spawner` interface; until then the
 * host must present this spawner as unsafe for untrusted agents.
 */
export class ChildProcessSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'node_permission_model';
  readonly #entry: string;
  readonly #nodePath: string;
  readonly #nodeArgs: readonly string[];

  constructor(options: ChildProcessSpawnerOptions = {}) {
    this.#entry = options.entry ?? defaultWorkerEntry();
    this.#nodePath = options.nodePath ?? process.execPath;
    this.#nodeArgs = [
      '--no-node-snapshot',
      '--permission',
      ...workerReadPaths(this.#entry).map((p) => `--allow-fs-read=${p}`),
      `--max-old-space-size=${WORKER_MAX_OLD_SPACE_MB}`,
    ];
  }

  /** The flags every worker runs under (before the entry path); for diagnostics and tests. */
  get nodeArgs(): readonly string[] {
    return this.#nodeArgs;
  }

  spawn(options: SpawnWorkerOptions): SpawnedWorker {
    const cwd = mkdtempSync(join(tmpdir(), `ccos-worker-${safeName(options.runId)}-`));
    // Explicit and minimal: the host's environment (API keys, PATH, NODE_OPTIONS that could
    // grant permissions back) never reaches the worker. The token is set last so `env`
    // cannot replace it.
    const env: Record<string, string> = {
      ...options.env,
      NODE_OPTIONS: '',
      CCOS_AGENT_TOKEN: options.token,
    };
    const child = spawn(this.#nodePath, [...this.#nodeArgs, this.#entry], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    return new ChildWorker(child, cwd);
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

/** The worker program next to this file, as source when running from source, else as built. */
function defaultWorkerEntry(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../worker/worker-main${extension}`, import.meta.url));
}

/** Everything a worker may read: see `ChildProcessSpawner`. */
function workerReadPaths(entry: string): string[] {
  // main/agent: the folder holding worker/ and channel/ (this file is in main/agent/spawn).
  const here = dirname(dirname(fileURLToPath(import.meta.url)));
  const paths = [
    dirname(entry),
    join(here, 'worker'),
    join(here, 'channel'),
    join(here, '..', '..', 'contracts'),
  ];
  const root = join(here, '..', '..');
  // Node reads the nearest package.json to learn that .ts/.js files are ES modules.
  for (const dir of [root, join(root, '..')]) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      paths.push(manifest);
      break;
    }
  }
  for (const name of WORKER_PACKAGES) paths.push(findPackageDir(name, here));
  return [...new Set(paths)];
}

/** Node's lookup: the first `node_modules/<name>` in this folder or a parent. */
function findPackageDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) {
      throw new AppError('INTERNAL', `the agent worker needs the npm package ${name}`);
    }
  }
}

/** A run id as a folder-name fragment. */
function safeName(runId: string): string {
  return runId.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 40);
}
