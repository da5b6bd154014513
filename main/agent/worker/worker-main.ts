/**
 * The agent worker program (ARCHITECTURE.md §8), one process per run segment, started by a
 * `Spawner` as `node main/agent/worker/worker-main.ts` (built: one bundled file, see
 * scripts/bundle-worker.mjs) under Node's permission model. Its only channel
 * is its stdio: an MCP client on stdin/stdout, so stdout carries protocol messages and
 * nothing else; diagnostics go to stderr. It may be started before it has a run (the host's
 * pool, issue 18): it loads its code, then waits for the host's hand-off — the first line on
 * stdin, carrying the run id and the agent-session token — so the token is never in its
 * environment or argv, which other local users can read.
 *
 * Exit codes: 0 the segment ended as planned (completed, limit reached, paused, or stopped
 * by the host); 1 an unexpected error (the host counts a retry); 2 no hand-off (stdin ended
 * or its first line was not one).
 */
import { connectAgentClient, type AgentClient } from './agent-client.ts';
import { runAgentLoop } from './agent-loop.ts';
import { readHandoff, type WorkerHandoff } from '../channel/worker-handoff.ts';
import { stderrLog } from './worker-log.ts';

/** How long to wait for stdio to drain after the loop before exiting anyway. */
const EXIT_GRACE_MS = 2000;

async function main(): Promise<number> {
  const log = stderrLog();
  let handoff: WorkerHandoff;
  try {
    handoff = await readHandoff(process.stdin);
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const { token } = handoff;
  log(`serving run ${handoff.run_id}`);

  let client: AgentClient | undefined;
  try {
    client = await connectAgentClient({
      input: process.stdin,
      output: process.stdout,
      token,
      onViolation: (v) => {
        log(`host broke the protocol (${v.kind}): ${v.detail}`);
      },
    });
    const end = await runAgentLoop({ client, log, now: () => performance.now() });
    log(`segment ended: ${end}`);
    return 0;
  } catch (e) {
    log(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    // The last line is what the host shows as the reason this segment failed: short, no stack.
    log(`fatal: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return 1;
  } finally {
    await client?.close().catch(() => undefined);
  }
}

const code = await main();
process.exitCode = code;
// Closing the client paused stdin, so the process ends on its own once stdout has drained;
// this only guards against a handle that would keep it alive.
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
