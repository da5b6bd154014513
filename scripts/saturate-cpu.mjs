#!/usr/bin/env node
// Runs a command while every core is kept busy, to prove a test suite does not depend on the
// machine's speed (docs/testing.md):  node scripts/saturate-cpu.mjs [--cores N] -- npm test
// One busy-loop child per core (default: all of them) runs until the command exits; the
// script exits with the command's code.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
if (dash === -1 || dash === args.length - 1) {
  console.error('usage: node scripts/saturate-cpu.mjs [--cores N] -- <command> [args…]');
  process.exit(2);
}
const coresFlag = args.indexOf('--cores');
const cores =
  coresFlag === -1 || coresFlag > dash ? availableParallelism() : Number(args[coresFlag + 1]);
if (!Number.isInteger(cores) || cores < 1) {
  console.error('--cores must be a positive integer');
  process.exit(2);
}
const [command, ...rest] = args.slice(dash + 1);

const spinners = Array.from({ length: cores }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const stop = () => {
  for (const s of spinners) s.kill('SIGKILL');
};
process.on('exit', stop);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

console.error(
  `saturate-cpu: ${cores} busy loop(s) running; starting: ${[command, ...rest].join(' ')}`,
);
const started = Date.now();
const child = spawn(command, rest, { stdio: 'inherit', shell: process.platform === 'win32' });
child.on('exit', (code, signal) => {
  const seconds = Math.round((Date.now() - started) / 1000);
  console.error(
    `saturate-cpu: the command ended (${signal ?? `code ${code}`}) after ${seconds} s under load`,
  );
  process.exit(code ?? 1);
});
