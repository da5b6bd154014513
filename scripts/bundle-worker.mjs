#!/usr/bin/env node
// Bundles the built agent worker (dist/main/agent/worker/worker-main.js, from `tsc -b`) and
// every module it imports into one file next to it, which the host's spawners prefer
// (main/agent/spawn/worker-files.ts). A worker starts once per segment, and most of its
// start-up was Node resolving and reading ~300 module files (the MCP SDK, zod, ajv): one file
// takes about a third of the CPU (docs/benchmarks.md, autonomy). It also narrows what a worker
// may read to that one file. Uses Vite's build (already the renderer's bundler), not a new tool.
//
// Then a V8 start-up snapshot of the same program (worker-snapshot-main.js, bundled as a
// script: snapshots take no ES modules), built by this very Node binary: a worker started from
// it skips compiling and initialising its code (issue 18). A snapshot only fits the Node that
// built it, so its manifest names that Node; the spawners use it only under the same one. The
// manifest is written last: without it, the snapshot is not used.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';

const WORKER_DIR = 'dist/main/agent/worker';
const ENTRY = `${WORKER_DIR}/worker-main.js`;
const SNAPSHOT_ENTRY = `${WORKER_DIR}/worker-snapshot-main.js`;
// Names shared with main/agent/spawn/worker-files.ts.
const WORKER_BUNDLE_FILE = 'agent-worker.bundle.mjs';
const WORKER_SNAPSHOT_FILE = 'agent-worker.snapshot.blob';
const WORKER_SNAPSHOT_MANIFEST = 'agent-worker.snapshot.json';

for (const file of [ENTRY, SNAPSHOT_ENTRY]) {
  if (!existsSync(file)) {
    process.stderr.write(`bundle-worker: ${file} is missing: run \`tsc -b\` first\n`);
    process.exit(1);
  }
}

/** One file holding `entry` and every npm package it imports: the worker may read nothing else. */
async function bundle(entry, outDir, fileName, format) {
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      ssr: entry,
      outDir,
      // The folder holds tsc's output too.
      emptyOutDir: false,
      copyPublicDir: false,
      target: 'node24',
      minify: false,
      sourcemap: false,
      rollupOptions: { output: { format, entryFileNames: fileName, codeSplitting: false } },
    },
    ssr: { noExternal: true, target: 'node' },
  });
}

await bundle(ENTRY, WORKER_DIR, WORKER_BUNDLE_FILE, 'es');

const blob = resolve(WORKER_DIR, WORKER_SNAPSHOT_FILE);
const manifest = join(WORKER_DIR, WORKER_SNAPSHOT_MANIFEST);
// A failed build must not leave last time's snapshot to be taken for this one's.
rmSync(manifest, { force: true });
rmSync(blob, { force: true });
const scratch = mkdtempSync(join(tmpdir(), 'ccos-worker-snapshot-'));
try {
  const script = join(scratch, 'agent-worker.snapshot-main.cjs');
  await bundle(SNAPSHOT_ENTRY, scratch, 'agent-worker.snapshot-main.cjs', 'cjs');
  execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', script], {
    cwd: scratch,
    // What runs at build time must not see this machine's environment (it lands in the heap).
    env: {},
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  writeFileSync(
    manifest,
    `${JSON.stringify({ node_version: process.version, arch: process.arch }, null, 2)}\n`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
