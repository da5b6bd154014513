#!/usr/bin/env node
// `npm start` builds before it serves. The first build compiles every project (a minute or
// more on a small machine), later ones take seconds: say what is happening either way,
// instead of sitting silent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

// `--if-missing` (the `ccos` script): build only when there is no build yet, so a CLI call
// does not pay for an up-to-date check; `npm start` always brings the build up to date.
if (process.argv.includes('--if-missing') && existsSync('dist/main/cli.js')) process.exit(0);

const PROGRESS_EVERY_MS = 10_000;
const started = Date.now();
const seconds = () => Math.round((Date.now() - started) / 1000);

process.stderr.write(
  'building the host, the UI and the agent worker (tsc -b, vite build, the worker bundle; the first build takes a minute or two)…\n',
);
const tick = setInterval(() => {
  process.stderr.write(`  still building (${seconds()} s)…\n`);
}, PROGRESS_EVERY_MS);
const tsc = spawn('tsc', ['-b'], { stdio: 'inherit', shell: process.platform === 'win32' });
tsc.on('error', (e) => {
  clearInterval(tick);
  process.stderr.write(`could not start tsc (${e.message}): run \`npm ci\` first\n`);
  process.exit(1);
});
tsc.on('exit', (code) => {
  if (code !== 0) {
    clearInterval(tick);
    process.stderr.write(`the build failed after ${seconds()} s (see the errors above)\n`);
    process.exit(code ?? 1);
  }
  // The renderer the gateway serves (dist/renderer).
  const vite = spawn('vite', ['build', '--logLevel', 'warn'], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  vite.on('exit', (viteCode) => {
    if (viteCode !== 0) {
      clearInterval(tick);
      process.stderr.write(`the UI build failed after ${seconds()} s (see above)\n`);
      process.exit(viteCode ?? 1);
    }
    // The agent worker as one file (scripts/bundle-worker.mjs): what the host starts per segment.
    const bundle = spawn(process.execPath, ['scripts/bundle-worker.mjs'], { stdio: 'inherit' });
    bundle.on('exit', (bundleCode) => {
      clearInterval(tick);
      if (bundleCode === 0) process.stderr.write(`built in ${seconds()} s\n`);
      else process.stderr.write(`the worker bundle failed after ${seconds()} s (see above)\n`);
      process.exit(bundleCode ?? 1);
    });
  });
});
