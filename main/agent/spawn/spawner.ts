import type { Readable, Writable } from 'node:stream';
import type { WorkerIsolation } from '../../../contracts/agent-isolation.ts';
import type { WorkerHandoff } from '../channel/worker-handoff.ts';
import type { Disposable } from '../../disposable.ts';

export type { WorkerIsolation, WorkerHandoff };

/** How to start a worker that has no run yet (see `SpawnedWorker.handOff`). */
export type StartWorkerOptions = {
  /** Extra environment variables for the worker (tests, provider-free settings). */
  env?: Readonly<Record<string, string>>;
  /**
   * The run it will serve, when that is known at start (no pre-started worker was waiting).
   * Only a hint for a test spawner that picks a fixture per run; the worker itself learns its
   * run from its hand-off alone.
   */
  runId?: string;
};

export type SpawnWorkerOptions = Omit<StartWorkerOptions, 'runId'> & {
  runId: string;
  /** The run's agent-session token; handed over on the worker's stdin, never its environment or argv. */
  token: string;
};

/** How a worker process ended. */
export type WorkerExit = { code: number | null; signal: NodeJS.Signals | null };

/** A running agent worker. Disposing kills it (if still running) and cleans up after it. */
export type SpawnedWorker = Disposable & {
  readonly pid: number;
  /** The worker's stdin: the host writes channel messages here. */
  readonly stdin: Writable;
  /** The worker's stdout: channel messages from the worker, and nothing else. */
  readonly stdout: Readable;
  /** The worker's diagnostics. */
  readonly stderr: Readable;
  /** Settles once the process has exited; never rejects. */
  readonly exited: Promise<WorkerExit>;
  /** The run it was handed, or undefined while it waits for one. */
  readonly runId: string | undefined;
  /**
   * Gives the worker its run and that run's token (the first line on its stdin). Once only:
   * a worker serves one segment of one run, so a second hand-off throws CONFLICT.
   */
  handOff(handoff: WorkerHandoff): void;
  /** Sends a signal; a no-op once the worker has exited. */
  kill(signal?: NodeJS.Signals): void;
};

/**
 * Starts agent workers (ARCHITECTURE.md §8). One interface so the jail (`BubblewrapSpawner`)
 * and the permission-model spawner can be swapped without touching the supervisor.
 */
export type Spawner = {
  readonly isolation: WorkerIsolation;
  /**
   * Starts a worker with no run: it boots, loads its code and waits for its hand-off, so a
   * pool can start it before a segment needs it (issue 18).
   */
  start(options?: StartWorkerOptions): SpawnedWorker;
};

/** Starts a worker and hands it its run at once (tests, probes, a segment with no pool). */
export function spawnFor(spawner: Spawner, options: SpawnWorkerOptions): SpawnedWorker {
  const worker = spawner.start({
    runId: options.runId,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  worker.handOff({ run_id: options.runId, token: options.token });
  return worker;
}
