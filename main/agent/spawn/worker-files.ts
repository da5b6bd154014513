import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** The worker program next to this folder, as source when running from source, else as built. */
export function defaultWorkerEntry(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../worker/worker-main${extension}`, import.meta.url));
}

/**
 * Everything a worker may read: its own code folder, the channel code, `contracts/`, the
 * npm packages it imports and the package.json Node consults for module type. Both
 * spawners use this list — Node's permission model as `--allow-fs-read`, the jail as its
 * read-only binds — so the two layers agree on what the worker sees.
 */
export function workerReadPaths(entry: string): string[] {
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

/**
 * Node's flags for a worker under the permission model: no child processes, worker threads,
 * addons, WASI or file writes; reads only of `readPaths`; a capped heap.
 */
export function permissionModelArgs(readPaths: readonly string[]): string[] {
  return [
    '--no-node-snapshot',
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
