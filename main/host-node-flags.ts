/**
 * Node's flags for the host process, wherever it is started (the desktop shell's
 * `HostSupervisor`, `npm start`, `npm run ccos`, the CLI's shebang, the benchmarks).
 *
 * - `--no-node-snapshot`: isolated-vm refuses to start isolates otherwise.
 * - `--max-semi-space-size=16`: V8 sizes the young generation from the machine's memory
 *   (a 134 MB new space on a 24 GiB machine, mostly garbage between scavenges). The host
 *   forks once per worker, and a fork costs ~4 ms per 100 MB of the forking process's resident
 *   memory, so the cap keeps ~90 MB out of every fork (docs/benchmarks.md, "The store on
 *   node:sqlite"). Sixteen is V8's own cap on smaller machines: scavenges stay short.
 */
export const HOST_NODE_FLAGS: readonly string[] = [
  '--no-node-snapshot',
  '--max-semi-space-size=16',
];
