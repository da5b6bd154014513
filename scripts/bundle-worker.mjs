#!/usr/bin/env node
// Bundles the built agent worker (dist/main/agent/worker/worker-main.js, from `tsc -b`) and
// every module it imports into one file next to it, which the host's spawners prefer
// (main/agent/spawn/worker-files.ts). A worker starts once per segment, and most of its
// start-up was Node resolving and reading ~300 module files (the MCP SDK, zod, ajv): one file
// takes about a third of the CPU (docs/benchmarks.md, autonomy). It also narrows what a worker
// may read to that one file. Uses Vite's build (already the renderer's bundler), not a new tool.
import { existsSync } from 'node:fs';
import { build } from 'vite';

const ENTRY = 'dist/main/agent/worker/worker-main.js';
const WORKER_BUNDLE_DIR = 'dist/main/agent/worker';
const WORKER_BUNDLE_FILE = 'agent-worker.bundle.mjs';

if (!existsSync(ENTRY)) {
  process.stderr.write(`bundle-worker: ${ENTRY} is missing: run \`tsc -b\` first\n`);
  process.exit(1);
}
await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    ssr: ENTRY,
    outDir: WORKER_BUNDLE_DIR,
    // The folder holds tsc's output too.
    emptyOutDir: false,
    copyPublicDir: false,
    target: 'node24',
    minify: false,
    sourcemap: false,
    rollupOptions: {
      output: { format: 'es', entryFileNames: WORKER_BUNDLE_FILE, codeSplitting: false },
    },
  },
  // Every npm package goes into the file: the worker may read nothing else.
  ssr: { noExternal: true, target: 'node' },
});
