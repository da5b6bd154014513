import { fileURLToPath } from 'node:url';
import { ChildProcessSpawner } from '../../../../main/agent/spawn/child-process-spawner.ts';
import type {
  SpawnWorkerOptions,
  SpawnedWorker,
  Spawner,
  WorkerIsolation,
} from '../../../../main/agent/spawn/spawner.ts';

const FIXTURES = new URL('../../../fixtures/agent/', import.meta.url);

/**
 * What the n-th spawned worker is: the real worker, one that connects and hangs, one that
 * writes garbage to stdout, or one that dies with an error on stderr.
 */
export type WorkerKind = 'real' | 'hang' | 'garbage' | 'crash';

/**
 * A `Spawner` for fault tests: delegates to `ChildProcessSpawner` (the real jail flags) with
 * the real worker or a misbehaving fixture, as `plan` says per spawn, and keeps every worker
 * it started so a test can kill one and `killAll` can clean up.
 */
export class RecordingSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'node_permission_model';
  readonly workers: { kind: WorkerKind; worker: SpawnedWorker }[] = [];
  plan: (index: number) => WorkerKind;
  readonly #spawners: Record<WorkerKind, ChildProcessSpawner> = {
    real: new ChildProcessSpawner(),
    hang: new ChildProcessSpawner({ entry: fileURLToPath(new URL('hanging-worker.ts', FIXTURES)) }),
    garbage: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('misbehaving-worker.ts', FIXTURES)),
    }),
    crash: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('misbehaving-worker.ts', FIXTURES)),
    }),
  };

  constructor(plan: (index: number) => WorkerKind = () => 'real') {
    this.plan = plan;
  }

  spawn(options: SpawnWorkerOptions): SpawnedWorker {
    const kind = this.plan(this.workers.length);
    const worker = this.#spawners[kind].spawn(
      kind === 'garbage' || kind === 'crash'
        ? { ...options, env: { CCOS_FIXTURE_MODE: kind } }
        : options,
    );
    this.workers.push({ kind, worker });
    return worker;
  }

  /** Kills every worker still running and removes their folders. */
  async killAll(): Promise<void> {
    await Promise.all(
      this.workers.map(async ({ worker }) => {
        await worker.dispose();
      }),
    );
  }
}
