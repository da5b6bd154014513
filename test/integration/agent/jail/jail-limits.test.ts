/**
 * The attempts the jail answers by killing the worker (issue 20): spinning past the CPU
 * limit and growing the heap without bound, through a real host and supervisor. The
 * supervisor records why each segment ended, charges the retry, and fails the run once
 * its retries are spent; another run on the same host meanwhile completes, and the host
 * keeps answering.
 */
import { afterEach, expect, it } from 'vitest';
import type { ChainEntry } from '../../../../contracts/chain.ts';
import { BubblewrapSpawner } from '../../../../main/agent/spawn/bubblewrap-spawner.ts';
import type {
  SpawnedWorker,
  Spawner,
  StartWorkerOptions,
  WorkerIsolation,
} from '../../../../main/agent/spawn/spawner.ts';
import {
  ECHO,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from '../../autonomy/helpers/autonomy-host.ts';
import { HOSTILE_WORKER, describeWithJail } from './jail-kit.ts';

/** Long enough for a slow machine to use 2 s of CPU; the CPU limit, not the timer, ends it. */
const LIMIT_TIMEOUT_MS = 180_000;

/**
 * Sends the first run it is asked for (and its retries) to the hostile worker with one
 * attempt, every other run to the real worker, both in the same jail.
 */
class HostileFirstSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'bubblewrap';
  readonly #hostile: Spawner;
  readonly #real: Spawner;
  readonly #attempt: string;
  #hostileRun: string | undefined;
  readonly workers: SpawnedWorker[] = [];

  constructor(hostile: Spawner, real: Spawner, attempt: string) {
    this.#hostile = hostile;
    this.#real = real;
    this.#attempt = attempt;
  }

  start(options: StartWorkerOptions = {}): SpawnedWorker {
    // The host runs this test with no pool, so every start names the run it is for.
    this.#hostileRun ??= options.runId;
    const worker =
      options.runId === this.#hostileRun
        ? this.#hostile.start({
            ...options,
            env: {
              ESCAPE_ATTEMPT: this.#attempt,
              ESCAPE_PARAMS: JSON.stringify({ cpuSeconds: 2 }),
            },
          })
        : this.#real.start(options);
    this.workers.push(worker);
    return worker;
  }
}

describeWithJail(
  'the jail kills a worker past its limits; the host and other runs carry on',
  (jail) => {
    let host: AutonomyHost | undefined;
    let spawner: HostileFirstSpawner | undefined;
    afterEach(async () => {
      await host?.stop();
      for (const w of spawner?.workers ?? []) await w.dispose();
      host = undefined;
      spawner = undefined;
    });

    for (const [attempt, signal] of [
      ['spin_cpu', 'SIGXCPU'],
      ['exhaust_heap', 'SIGABRT'],
    ] as const) {
      it(
        `${attempt}: each segment ends "worker exited with ${signal}", costs a retry, the run fails when they are spent`,
        async () => {
          spawner = new HostileFirstSpawner(
            new BubblewrapSpawner({
              tools: jail.tools,
              entry: HOSTILE_WORKER,
              limits: { cpuSeconds: 2 },
            }),
            new BubblewrapSpawner({ tools: jail.tools }),
            attempt,
          );
          host = await startAutonomyHost({
            spawner,
            workerPoolSize: 0,
            transcript: {
              entries: [callEntry('c1', ECHO, { text: 'still here' }), doneEntry('Echoed.')],
            },
          });
          const hostile = await host.createRun({ goal: 'escape', budget: { max_retries: 1 } });
          // The other run is created once the hostile one holds its worker: it gets the real one.
          await host.waitForEntry(
            (e) => e.run_id === hostile.id && e.event_type === 'segment.started',
          );
          const other = await host.createRun({ goal: 'echo once' });

          const failed = await host.settle(hostile.id, LIMIT_TIMEOUT_MS);
          expect(failed.state).toBe('failed');
          // The reason names the last failure (issue 19), here the limit the jail enforced.
          expect(failed.state_reason).toBe(`retries_exhausted: worker exited with ${signal}`);
          // Two segments failed; the one retry allowed was spent (never shown above its limit).
          expect(failed.usage.retries).toBe(1);
          const ended = await host.runChain(hostile.id, 'segment.ended');
          expect(ended.map((e: ChainEntry) => e.data.failure)).toEqual([
            `worker exited with ${signal}`,
            `worker exited with ${signal}`,
          ]);
          const started = await host.runChain(hostile.id, 'segment.started');
          for (const entry of started)
            expect(entry.data).toMatchObject({ isolation: 'bubblewrap', unsafe: false });

          const done = await host.settle(other.id, LIMIT_TIMEOUT_MS);
          expect(done.state).toBe('done');
          expect(done.usage.retries).toBe(0);
          const health = await fetch(`${host.started.gateway.url}/v1/health`);
          expect(health.status).toBe(200);
        },
        LIMIT_TIMEOUT_MS,
      );
    }
  },
);
