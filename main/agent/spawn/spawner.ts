import type { Readable, Writable } from 'node:stream';
import type { WorkerIsolation } from '../../../contracts/agent-isolation.ts';
import type { Disposable } from '../../disposable.ts';

export type { WorkerIsolation };

export type SpawnWorkerOptions = {
  runId: string;
  /** The run's agent-session token; handed to the worker in its environment, never on argv. */
  token: string;
  /** Extra environment variables for the worker (tests, provider-free settings). */
  env?: Readonly<Record<string, string>>;
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
  /** Sends a signal; a no-op once the worker has exited. */
  kill(signal?: NodeJS.Signals): void;
};

/**
 * Starts agent workers (ARCHITECTURE.md §8). One interface so the jail (`BubblewrapSpawner`)
 * and the permission-model spawner can be swapped without touching the supervisor.
 */
export type Spawner = {
  readonly isolation: WorkerIsolation;
  spawn(options: SpawnWorkerOptions): SpawnedWorker;
};
