import { sql } from 'kysely';
import { createLlmProvider } from '../agent/llm/create-llm-provider.ts';
import { llmLocationOf } from '../agent/llm/llm-location.ts';
import type { LlmProvider } from '../agent/llm/llm-provider.ts';
import type { Spawner } from '../agent/spawn/spawner.ts';
import type { HostConfig } from '../config.ts';
import type { Disposable } from '../disposable.ts';
import type { SecretStore } from '../policy/secret-store.ts';
import type { RunSteering } from '../runs/run-steering.ts';
import type { FollowUps } from '../scheduler/follow-ups.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import type { Store } from '../store/open-store.ts';
import type { RunSegmentDeps } from '../supervisor/segment-context.ts';
import { Supervisor } from '../supervisor/supervisor.ts';
import type { SupervisorDeps } from '../supervisor/supervisor-deps.ts';
import { WorkerPool } from '../supervisor/worker-pool.ts';

/** How long a worker may take to exit after its segment's time is up before it is killed. */
const SEGMENT_EXIT_GRACE_MS = 5_000;

/** The services a supervisor and its segments are wired to (their own deps' types). */
export type SupervisorParts = Pick<
  SupervisorDeps,
  'runs' | 'chain' | 'clock' | 'logger' | 'tokens' | 'meter' | 'policies' | 'controls'
> &
  Pick<
    RunSegmentDeps,
    'pipeline' | 'checkpoints' | 'payloads' | 'redactor' | 'memory' | 'approvals'
  > & {
    store: Store;
    skillRegistry: SkillRegistry;
    secrets: SecretStore;
    followUps: FollowUps;
    steering: RunSteering;
  };

/**
 * The supervisor and its worker pool, started; null when no LLM provider is configured or
 * agents are refused (runs then wait in `pending`). Each disposable is handed to `track` in
 * the order the host must dispose them in reverse.
 */
export function startSupervisor(
  agents: HostConfig['agents'],
  spawner: Spawner | null,
  parts: SupervisorParts,
  track: (disposable: Disposable) => void,
): Supervisor | null {
  const settings = agents.llm;
  if (settings === null) {
    parts.logger.warn(
      'no LLM provider configured (--llm-settings): runs wait in pending until one is',
    );
    return null;
  }
  // Refused (no jail, not allowed to run without): chooseSpawner has logged why and the fix.
  if (spawner === null) return null;
  // One provider per run: a replay transcript keeps its place per run.
  const providers = new Map<string, LlmProvider>();
  // Registered before the supervisor so it is disposed after it: the supervisor's stop ends
  // the segments (their taken workers), then the pool kills its idle ones.
  const workers = new WorkerPool({
    spawner,
    size: agents.worker_pool_size,
    logger: parts.logger,
  });
  track(workers);
  workers.start();
  const supervisor = new Supervisor({
    db: parts.store.db,
    runs: parts.runs,
    chain: parts.chain,
    clock: parts.clock,
    logger: parts.logger,
    tokens: parts.tokens,
    meter: parts.meter,
    policies: parts.policies,
    spawner,
    workers,
    llmFor: (runId) => {
      let provider = providers.get(runId);
      if (provider === undefined) {
        provider = createLlmProvider(settings, {
          resolveSecret: (name) => parts.secrets.reveal(name),
          // The host retries a failed call itself, visibly (a step, a chain entry, the
          // run's reason) and honouring `retry-after`; an SDK retry would hide a failure.
          maxRetries: 0,
          replayStartAt: async () => {
            const answered = await parts.store.db
              .selectFrom('chain')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('run_id', '=', runId)
              .where('event_type', '=', 'llm.call')
              // A failed call got no answer: it does not move the script on.
              .where(sql`json_extract(data, '$.outcome')`, 'is not', 'failed')
              .executeTakeFirstOrThrow();
            return answered.n;
          },
        });
        providers.set(runId, provider);
      }
      return provider;
    },
    segmentDeps: {
      runs: parts.runs,
      chain: parts.chain,
      clock: parts.clock,
      meter: parts.meter,
      pipeline: parts.pipeline,
      checkpoints: parts.checkpoints,
      payloads: parts.payloads,
      registry: parts.skillRegistry,
      redactor: parts.redactor,
      labels: {
        db: parts.store.db,
        policies: parts.policies,
        llmLocation: llmLocationOf(settings),
      },
      memory: parts.memory,
      approvals: parts.approvals,
      logger: parts.logger,
      followUps: parts.followUps,
      controls: parts.controls,
      steering: parts.steering,
    },
    controls: parts.controls,
    exitGraceMs: SEGMENT_EXIT_GRACE_MS,
  });
  track(supervisor);
  supervisor.start();
  return supervisor;
}
