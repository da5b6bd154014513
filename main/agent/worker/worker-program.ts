/**
 * The agent worker's program, apart from how it is started: `worker-main.ts` runs it as a
 * module (the module tree, the one-file bundle), `worker-snapshot-main.ts` registers it as
 * the main function of a V8 start-up snapshot (scripts/bundle-worker.mjs). One segment of one
 * run: read the host's hand-off, serve the agent loop over stdio, end.
 *
 * Exit codes: 0 the segment ended as planned (completed, limit reached, paused, or stopped
 * by the host); 1 an unexpected error (the host counts a retry); 2 no hand-off (stdin ended
 * or its first line was not one).
 */
import {
  connectAgentClient,
  type AgentClient,
  type ConnectAgentClientOptions,
} from './agent-client.ts';
import { runAgentLoop } from './agent-loop.ts';
import { readHandoff, type WorkerHandoff } from '../channel/worker-handoff.ts';
import { stderrLog } from './worker-log.ts';

/** How long to wait for stdio to drain after the loop before exiting anyway. */
const EXIT_GRACE_MS = 2000;

export type RunWorkerOptions = Pick<ConnectAgentClientOptions, 'jsonSchemaValidator'>;

/** Serves one segment; resolves to the process's exit code, never rejects. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<number> {
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
      ...options,
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

/** Ends the process with `code` once its output has drained. */
export function endWorker(code: number): void {
  process.exitCode = code;
  // Closing the client paused stdin, so the process ends on its own once stdout has drained;
  // this only guards against a handle that would keep it alive.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}
