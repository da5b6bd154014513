import type { Logger } from 'pino';
import type { SpawnedWorker, Spawner } from '../agent/spawn/spawner.ts';
import type { Disposable } from '../disposable.ts';

/** Idle workers retired in a row (none taken between) after which the pool stops refilling. */
export const MAX_IDLE_RETIREMENTS_IN_A_ROW = 3;
/** What is kept of an idle worker's stderr, for the log line when it is retired. */
const IDLE_STDERR_TAIL_CHARS = 2000;

export type WorkerPoolOptions = {
  spawner: Spawner;
  /** Workers kept started and waiting for a run; 0 disables the pool (each segment starts one). */
  size: number;
  logger: Logger;
  /** Told when an idle worker is retired (it died, or spoke before it had a run) and why. */
  onRetired?: (pid: number, reason: string) => void;
};

/** An idle worker and how to stop watching it. */
type Idle = { worker: SpawnedWorker; unwatch: () => void };

/**
 * A few pre-started, never-reused agent workers (issue 18): each has booted Node and loaded
 * its code and waits, with no run and no token, for its hand-off, so a segment does not
 * wait for a process start. `take` gives a worker out once — it serves that one segment and
 * is disposed by its taker — and the pool starts a replacement.
 *
 * Until it is taken nothing serves an idle worker's channel, so it cannot call anything; a
 * worker that writes to its channel anyway is killed and replaced (it is not the worker
 * program, which waits silently). One that dies idle is replaced too, charging no run:
 * there is none. If idle workers keep dying, the pool stops refilling until the next take
 * (segments then start their own worker, and fail visibly if that fails too).
 */
export class WorkerPool implements Disposable {
  readonly #spawner: Spawner;
  readonly #size: number;
  readonly #logger: Logger;
  readonly #onRetired: WorkerPoolOptions['onRetired'];
  readonly #idle: Idle[] = [];
  readonly #retiring = new Set<Promise<void>>();
  #retiredInARow = 0;
  #refill: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(options: WorkerPoolOptions) {
    this.#spawner = options.spawner;
    this.#size = options.size;
    this.#logger = options.logger;
    this.#onRetired = options.onRetired;
  }

  /** Starts the idle workers. */
  start(): void {
    this.#fill();
  }

  /** The process ids of the workers waiting for a run, oldest first. */
  get idlePids(): number[] {
    return this.#idle.map((i) => i.worker.pid);
  }

  /**
   * A worker for one segment of `runId`, not yet handed its run: the caller serves its
   * channel, then calls `handOff` once, and disposes it when the segment ends. The oldest
   * idle worker, or a new one when none waits.
   */
  take(runId: string): SpawnedWorker {
    if (this.#stopped) throw new Error('the worker pool is stopped');
    const idle = this.#idle.shift();
    this.#scheduleRefill();
    if (idle === undefined) return this.#spawner.start({ runId });
    idle.unwatch();
    this.#retiredInARow = 0;
    return idle.worker;
  }

  /** Kills every idle worker and removes its folder; a taken one is its taker's to dispose. */
  async dispose(): Promise<void> {
    this.#stopped = true;
    clearImmediate(this.#refill);
    const idle = this.#idle.splice(0);
    for (const i of idle) i.unwatch();
    await Promise.all([...idle.map((i) => i.worker.dispose()), ...this.#retiring]);
  }

  #scheduleRefill(): void {
    if (this.#refill !== undefined || this.#stopped) return;
    // After the current segment's own work: its hand-off goes first, the refill's fork after.
    this.#refill = setImmediate(() => {
      this.#refill = undefined;
      this.#fill();
    });
  }

  #fill(): void {
    while (
      !this.#stopped &&
      this.#idle.length < this.#size &&
      this.#retiredInARow < MAX_IDLE_RETIREMENTS_IN_A_ROW
    ) {
      let worker: SpawnedWorker;
      try {
        worker = this.#spawner.start();
      } catch (err) {
        this.#logger.error({ err }, 'could not pre-start an agent worker');
        this.#retiredInARow++;
        continue;
      }
      this.#idle.push({ worker, unwatch: this.#watch(worker) });
    }
  }

  /** Watches an idle worker for what retires it; returns how to stop watching. */
  #watch(worker: SpawnedWorker): () => void {
    let watching = true;
    let stderr = '';
    const onStderr = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString('utf8')).slice(-IDLE_STDERR_TAIL_CHARS);
    };
    // The worker program says nothing on its channel before its hand-off: anything here is a
    // worker trying to talk before it has a run.
    const onStdout = (): void => {
      this.#retire(worker, 'wrote to its channel before it was handed a run', stderr);
    };
    worker.stderr.on('data', onStderr);
    worker.stdout.on('data', onStdout);
    void worker.exited.then((exit) => {
      if (!watching) return;
      this.#retire(
        worker,
        `exited while idle (${exit.signal ?? `code ${String(exit.code)}`})`,
        stderr,
      );
    });
    return () => {
      watching = false;
      worker.stderr.off('data', onStderr);
      worker.stdout.off('data', onStdout);
      // Whatever arrives next waits in the pipe for the segment's channel, which resumes it.
      worker.stdout.pause();
    };
  }

  #retire(worker: SpawnedWorker, reason: string, stderr: string): void {
    const at = this.#idle.findIndex((i) => i.worker === worker);
    if (at === -1) return;
    const [idle] = this.#idle.splice(at, 1);
    idle?.unwatch();
    this.#retiredInARow++;
    this.#logger.warn(
      { pid: worker.pid, reason, worker_stderr: stderr.slice(-500) },
      'a pre-started agent worker was retired before it had a run',
    );
    if (this.#retiredInARow === MAX_IDLE_RETIREMENTS_IN_A_ROW) {
      this.#logger.error(
        { retired: this.#retiredInARow },
        'pre-started agent workers keep failing: segments start their own until one is taken',
      );
    }
    const retiring = Promise.resolve(worker.dispose()).finally(() => {
      this.#retiring.delete(retiring);
    });
    this.#retiring.add(retiring);
    this.#onRetired?.(worker.pid, reason);
    this.#scheduleRefill();
  }
}
