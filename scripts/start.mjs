#!/usr/bin/env node
// `npm start`: the desktop app where Electron can run (its binary is installed and there is a
// screen), else the headless host, which prints the UI's one-time login link. Runs after
// `scripts/build.mjs`, so dist/ is current.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { electronBinary, hasDesktop } from '../dist/main/electron/electron-binary.js';
import { HOST_NODE_FLAGS } from '../dist/main/host-node-flags.js';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const electron = electronBinary(root);
const useElectron = electron !== undefined && hasDesktop() && !args.includes('--headless');
const [command, commandArgs] = useElectron
  ? [electron, [path.join(root, 'dist', 'main', 'electron.js')]]
  : [
      process.execPath,
      [
        ...HOST_NODE_FLAGS,
        path.join(root, 'dist', 'main', 'cli.js'),
        'serve',
        ...args.filter((a) => a !== '--headless'),
      ],
    ];
if (!useElectron) {
  process.stderr.write(
    electron === undefined
      ? 'no Electron binary here: starting the headless host (open the link it prints)\n'
      : 'no display: starting the headless host (open the link it prints)\n',
  );
}
const child = spawn(command, commandArgs, { stdio: 'inherit' });
// The child gets Ctrl-C from the terminal itself; forward a plain SIGTERM too.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 0));
});
