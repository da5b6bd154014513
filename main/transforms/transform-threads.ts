import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import type { Disposable } from '../disposable.ts';
import type { TransformJob, TransformJobResult } from './transform-job.ts';

/** A transform thread's heap: a 1 MiB message and its copies fit many times over. */
const THREAD_HEAP_MB = 256;

type Envelope =
  { ok: true; value: TransformJobResult } | { ok: false; error: { code: string; message: string } };

/**
 * Runs transform jobs (the deterministic transforms and the redaction verifier) each on its
 * own worker thread, so a large or hostile message never stalls the host's event loop (the
 * gateway, the supervisor, the chain) while its rules read it. Every job has a time limit
 * from the run's pack, counted from when its thread is up: a job past it is terminated and
 * fails with `TRANSFORM_TIME_LIMIT`; a thread that dies (out of heap) fails with
 * `TRANSFORM_FAILED`. At most `maxThreads` run at once; the others wait their turn.
 */
export class TransformThreads implements Disposable {
  readonly #maxThreads: number;
  readonly #live = new Set<Worker>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #disposed = false;

  constructor(maxThreads = Math.max(1, availableParallelism() - 1)) {
    this.#maxThreads = maxThreads;
  }

  async run(job: TransformJob, timeLimitMs: number): Promise<TransformJobResult> {
    await this.#turn();
    try {
      return await this.#runOnThread(job, timeLimitMs);
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await Promise.all([...this.#live].map((w) => w.terminate()));
  }

  async #turn(): Promise<void> {
    if (this.#running >= this.#maxThreads)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running += 1;
  }

  #runOnThread(job: TransformJob, timeLimitMs: number): Promise<TransformJobResult> {
    if (this.#disposed) return Promise.reject(stopped());
    // The source file under vitest and tsx, the built one in dist/.
    const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const worker = new Worker(new URL(`./transform-worker${extension}`, import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
      // The thread needs nothing of the host's environment.
      env: {},
      stdout: false,
      stderr: false,
    });
    this.#live.add(worker);
    return new Promise<TransformJobResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#live.delete(worker);
        void worker.terminate();
        fn();
      };
      worker.once('online', () => {
        timer = setTimeout(() => {
          settle(() => {
            reject(
              new AppError(
                'TRANSFORM_TIME_LIMIT',
                `the transform did not finish within the pack's ${String(timeLimitMs)} ms`,
                { time_limit_ms: timeLimitMs },
              ),
            );
          });
        }, timeLimitMs);
      });
      worker.once('message', (envelope: Envelope) => {
        settle(() => {
          if (envelope.ok) resolve(envelope.value);
          else reject(new AppError('TRANSFORM_FAILED', envelope.error.message));
        });
      });
      worker.once('error', (err: Error) => {
        settle(() => {
          reject(new AppError('TRANSFORM_FAILED', `the transform thread failed: ${err.message}`));
        });
      });
      worker.once('exit', () => {
        settle(() => {
          reject(
            this.#disposed
              ? stopped()
              : new AppError('TRANSFORM_FAILED', 'the transform thread exited'),
          );
        });
      });
      worker.postMessage(job);
    });
  }
}

function stopped(): AppError {
  return new AppError('TRANSFORM_FAILED', 'the host is stopping');
}
