import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.ts';

/** Heap cap for a worker: a conversation and a tool list, nothing more. */
export const WORKER_MAX_OLD_SPACE_MB = 256;

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

/** The built worker as one file (`scripts/bundle-worker.mjs`), beside the built worker-main.js. */
export const WORKER_BUNDLE_FILE = 'agent-worker.bundle.mjs';
/** The same program as a V8 start-up snapshot, beside the bundle (`scripts/bundle-worker.mjs`). */
export const WORKER_SNAPSHOT_FILE = 'agent-worker.snapshot.blob';
/** Which Node built the snapshot; written after it, so a snapshot without one is not used. */
export const WORKER_SNAPSHOT_MANIFEST = 'agent-worker.snapshot.json';

/**
 * What a worker's Node runs: a script (the source, the built module tree, the bundle), or the
 * bundle's start-up snapshot (`--snapshot-blob`), which skips loading and initialising its code.
 */
export type WorkerProgram = { kind: 'script' | 'snapshot'; path: string };

/**
 * The program a worker on `nodePath` runs by default: the snapshot when there is one built by
 * this very Node (a snapshot fits only the binary that built it: another would refuse it or
 * crash) from the bundle the host would run, else `defaultWorkerEntry()` as a script.
 */
export function defaultWorkerProgram(nodePath: string = process.execPath): WorkerProgram {
  const entry = defaultWorkerEntry();
  const snapshot = basename(entry) === WORKER_BUNDLE_FILE ? snapshotBeside(entry, nodePath) : null;
  return snapshot === null ? { kind: 'script', path: entry } : { kind: 'snapshot', path: snapshot };
}

/** A spawner's program: the one it was given, else `entry` as a script, else the default. */
export function chosenWorkerProgram(
  options: { program?: WorkerProgram; entry?: string },
  nodePath: string,
): WorkerProgram {
  if (options.program !== undefined) return options.program;
  return options.entry === undefined
    ? defaultWorkerProgram(nodePath)
    : { kind: 'script', path: options.entry };
}

/** Node's arguments (after its flags) that start `program`. */
export function workerProgramArgs(program: WorkerProgram): string[] {
  return program.kind === 'snapshot' ? ['--snapshot-blob', program.path] : [program.path];
}

/**
 * The snapshot beside `bundle` if `nodePath` is this Node, this Node built it (its manifest
 * says so) and it is not older than the bundle; else null.
 */
export function snapshotBeside(bundle: string, nodePath: string): string | null {
  const blob = join(dirname(bundle), WORKER_SNAPSHOT_FILE);
  const manifest = join(dirname(bundle), WORKER_SNAPSHOT_MANIFEST);
  try {
    if (realpathSync(nodePath) !== realpathSync(process.execPath)) return null;
    const built = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    if (built.node_version !== process.version || built.arch !== process.arch) return null;
    return statSync(blob).mtimeMs >= statSync(bundle).mtimeMs ? blob : null;
  } catch {
    return null;
  }
}

/**
 * The worker program: as source when running from source; as built, the one-file bundle when
 * it is there and not older than the worker's built files (a `tsc -b` after a change without
 * the bundle step must not run yesterday's worker), else the built worker-main.js.
 */
export function defaultWorkerEntry(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = fileURLToPath(new URL(`../worker/worker-main${extension}`, import.meta.url));
  if (extension === '.ts') return entry;
  const bundle = join(dirname(entry), WORKER_BUNDLE_FILE);
  return existsSync(bundle) && statSync(bundle).mtimeMs >= newestBuiltFile(entry) ? bundle : entry;
}

/** The newest modification time among the worker's own built .js files (not its packages). */
function newestBuiltFile(entry: string): number {
  let newest = 0;
  for (const dir of ownCodePaths(entry)) {
    for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (name.endsWith('.js')) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
    }
  }
  return newest;
}

/** The folders of the worker's own code: its folder, the channel code and `contracts/`. */
function ownCodePaths(entry: string): string[] {
  // main/agent: the folder holding worker/ and channel/ (this file is in main/agent/spawn).
  const here = dirname(dirname(fileURLToPath(import.meta.url)));
  return [
    ...new Set([
      dirname(entry),
      join(here, 'worker'),
      join(here, 'channel'),
      join(here, '..', '..', 'contracts'),
    ]),
  ];
}

/**
 * Everything a worker may read: the snapshot or the bundle alone when it runs as one; otherwise its own code
 * folder, the channel code, `contracts/`, the npm packages it imports and the package.json
 * Node consults for module type. Both spawners use this list — Node's permission model as
 * `--allow-fs-read`, the jail as its read-only binds — so the two layers agree on what the
 * worker sees.
 */
export function workerReadPaths(program: WorkerProgram): string[] {
  const entry = program.path;
  if (program.kind === 'snapshot' || basename(entry) === WORKER_BUNDLE_FILE) return [entry];
  // main/agent: the folder holding worker/ and channel/ (this file is in main/agent/spawn).
  const here = dirname(dirname(fileURLToPath(import.meta.url)));
  const paths = ownCodePaths(entry);
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

/**
 * Node's flags for a worker under the permission model: no child processes, worker threads,
 * addons, WASI or file writes; reads only of `readPaths`; a capped heap. Node's start-up
 * snapshot stays on (unlike the host's `--no-node-snapshot`, which only isolated-vm needs):
 * the worker loads no isolate, and booting from the snapshot saves it CPU at every segment.
 */
export function permissionModelArgs(readPaths: readonly string[]): string[] {
  return [
    '--permission',
    ...readPaths.map((p) => `--allow-fs-read=${p}`),
    `--max-old-space-size=${WORKER_MAX_OLD_SPACE_MB}`,
  ];
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
