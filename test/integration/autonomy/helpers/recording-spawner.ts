import { fileURLToPath } from 'node:url';
import { ChildProcessSpawner } from '../../../../main/agent/spawn/child-process-spawner.ts';
import { notingHandOff } from '../../../support/handoff-noting-worker.ts';
import type {
  SpawnedWorker,
  Spawner,
  StartWorkerOptions,
  WorkerIsolation,
} from '../../../../main/agent/spawn/spawner.ts';

const FIXTURES = new URL('../../../fixtures/agent/', import.meta.url);

/**
 * What the n-th spawned worker is: the real worker, one that connects and hangs, one that
 * writes garbage to stdout, one that dies with an error on stderr, one that fires 20 LLM
 * calls at once, one that checkpoints and writes memory until it is refused, the real worker
 * starting late, one that writes its own "goal met" fact into its scratch memory and
 * claims completion, or one that dies between an LLM answer and its checkpoint.
 */
export type WorkerKind =
  | 'real'
  | 'hang'
  | 'garbage'
  | 'crash'
  | 'greedy'
  | 'hoard'
  | 'slow_start'
  | 'self_complete'
  | 'drop_notes';

/** How late a `slow_start` worker sends its first message. */
export const SLOW_START_DELAY_MS = 8_000;

/**
 * A `Spawner` for fault tests: delegates to `ChildProcessSpawner` (the real jail flags) with
 * the real worker or a misbehaving fixture, as `plan` says per start, and keeps every worker
 * it started so a test can kill one and `killAll` can clean up. `plan` is asked in the order
 * workers are started, which is the order the host's pool hands them to segments (unless an
 * idle one died and was replaced); `workers` lists them as they are handed a run.
 */
export class RecordingSpawner implements Spawner {
  readonly isolation: WorkerIsolation = 'node_permission_model';
  /** The workers that were handed a run, in that order: one per segment. */
  readonly workers: { kind: WorkerKind; worker: SpawnedWorker }[] = [];
  /** Every worker started, handed a run or still waiting in the host's pool. */
  readonly #started: SpawnedWorker[] = [];
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
    greedy: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('greedy-worker.ts', FIXTURES)),
    }),
    hoard: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('hoarding-worker.ts', FIXTURES)),
    }),
    slow_start: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('slow-starting-worker.ts', FIXTURES)),
    }),
    self_complete: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('self-completing-worker.ts', FIXTURES)),
    }),
    drop_notes: new ChildProcessSpawner({
      entry: fileURLToPath(new URL('note-dropping-worker.ts', FIXTURES)),
    }),
  };

  constructor(plan: (index: number) => WorkerKind = () => 'real') {
    this.plan = plan;
  }

  start(options: StartWorkerOptions = {}): SpawnedWorker {
    const kind = this.plan(this.#started.length);
    const env: Record<WorkerKind, Record<string, string> | undefined> = {
      real: undefined,
      hang: undefined,
      garbage: { CCOS_FIXTURE_MODE: 'garbage' },
      crash: { CCOS_FIXTURE_MODE: 'crash' },
      greedy: undefined,
      hoard: undefined,
      slow_start: { CCOS_FIXTURE_DELAY_MS: String(SLOW_START_DELAY_MS) },
      self_complete: undefined,
      drop_notes: undefined,
    };
    const extra = env[kind];
    const started = this.#spawners[kind].start(
      extra === undefined ? options : { ...options, env: extra },
    );
    this.#started.push(started);
    const worker = notingHandOff(started, () => {
      this.workers.push({ kind, worker });
    });
    return worker;
  }

  /** Kills every worker still running and removes their folders. */
  async killAll(): Promise<void> {
    await Promise.all(
      this.#started.map(async (worker) => {
        await worker.dispose();
      }),
    );
  }
}
