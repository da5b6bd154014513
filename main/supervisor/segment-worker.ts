import type { Run } from '../../contracts/runs.ts';
import { serveAgentChannel } from '../agent/channel/serve-agent-channel.ts';
import type { SpawnedWorker, WorkerExit } from '../agent/spawn/spawner.ts';
import type { Disposable } from '../disposable.ts';
import type { RunSegment } from './run-segment.ts';
import { NO_STEP } from './segment-end.ts';
import type { SupervisorDeps } from './supervisor-deps.ts';
import { WorkerLastError } from './worker-last-error.ts';
import { WorkerWatchdog } from './worker-watchdog.ts';

/** A segment's worker while it runs, and why it was killed if it was. */
export type ActiveWorker = {
  worker: SpawnedWorker;
  abort: AbortController;
  killReason: string | undefined;
};

/** What one segment's worker is allowed: its token, its time limits, its abort. */
export type WorkerTerms = {
  token: string;
  abort: AbortController;
  startMs: number;
  segmentMs: number;
  silenceMs: number;
};

/** How a segment's worker ended: why it failed (undefined: it did not) and its exit. */
export type WorkerOutcome = { why: string | undefined; exit: WorkerExit };

/**
 * Takes the segment's worker (pre-started, or started now), serves its channel with
 * `handlers` under a watchdog, hands it its run and token, and waits for it to exit; the
 * worker and its channel are disposed whatever happens.
 * `onActive` learns the worker once it is spawned, so others can kill it.
 */
export async function runSegmentWorker(
  deps: Pick<SupervisorDeps, 'workers' | 'logger' | 'segmentDeps'>,
  run: Run,
  handlers: RunSegment,
  terms: WorkerTerms,
  onActive: (active: ActiveWorker) => void,
): Promise<WorkerOutcome> {
  const { abort } = terms;
  let why: string | undefined;
  let exit: WorkerExit = { code: null, signal: null };
  const watchdog = new WorkerWatchdog(
    {
      startMs: terms.startMs,
      segmentMs: terms.segmentMs,
      silenceMs: terms.silenceMs,
    },
    (reason) => {
      kill(reason);
    },
    () => {
      handlers.workerStarted();
    },
  );
  let kill: (reason: string) => void = () => undefined;
  let channel: Disposable | undefined;
  let worker: SpawnedWorker | undefined;
  try {
    worker = deps.workers.take(run.id);
    const active: ActiveWorker = { worker, abort, killReason: undefined };
    onActive(active);
    const lastError = new WorkerLastError();
    worker.stderr.on('data', (chunk: Buffer) => {
      lastError.push(chunk.toString('utf8'));
      deps.logger.debug(
        { run_id: run.id, worker: chunk.toString('utf8').slice(0, 2000) },
        'worker stderr',
      );
    });
    kill = (reason: string): void => {
      active.killReason ??= reason;
      abort.abort();
      active.worker.kill('SIGKILL');
    };
    channel = await serveAgentChannel({
      activity: watchdog,
      input: worker.stdout,
      output: worker.stdin,
      handlers,
      token: terms.token,
      onProtocolError: (reason) => {
        kill(`protocol error: ${reason}`);
      },
      onUnexpectedError: (err) => {
        deps.logger.error({ err, run_id: run.id }, 'agent channel handler failed');
      },
    });
    // Only now, with its channel served: the watchdog times start-up from the hand-off, and
    // the token goes over the worker's stdin, never into its environment.
    watchdog.start();
    worker.handOff({ run_id: run.id, token: terms.token });
    exit = await active.worker.exited;
    why = active.killReason;
    if (why === undefined && (exit.code !== 0 || exit.signal !== null)) {
      // The worker's last error is its own text: redacted like anything else we record.
      // A worker killed by a signal did not choose to stop: its last line is no error.
      const said = exit.code !== 0 && exit.code !== null ? lastError.take() : undefined;
      const error = said === undefined ? '' : `: ${deps.segmentDeps.redactor.redactString(said)}`;
      why = `worker exited with ${exit.signal ?? `code ${String(exit.code)}`}${error}`;
    }
    if (why === undefined && handlers.steps === 0) why = NO_STEP;
  } catch (e) {
    why = `worker could not start: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    watchdog.dispose();
    await channel?.dispose();
    // Kills it if still running and removes its temporary folder (one per segment).
    await worker?.dispose();
  }
  return { why, exit };
}
