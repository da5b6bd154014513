/**
 * The agent worker program (ARCHITECTURE.md §8), one process per run segment, started by a
 * `Spawner` as `node main/agent/worker/worker-main.ts` (built: one bundled file, or a V8
 * start-up snapshot of it, see scripts/bundle-worker.mjs) under Node's permission model. Its
 * only channel is its stdio: an MCP client on stdin/stdout, so stdout carries protocol
 * messages and nothing else; diagnostics go to stderr. It may be started before it has a run
 * (the host's pool, issue 18): it loads its code, then waits for the host's hand-off — the
 * first line on stdin, carrying the run id and the agent-session token — so the token is never
 * in its environment or argv, which other local users can read. Exit codes: `runWorker`.
 */
import { endWorker, runWorker } from './worker-program.ts';

endWorker(await runWorker());
