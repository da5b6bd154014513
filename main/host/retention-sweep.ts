import type { Logger } from 'pino';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { MemoryStore } from '../memory/memory-store.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { runsPastPayloadRetention } from '../runs/payload-retention.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import type { TimerHandle, WakeTimer } from '../scheduler/wake-timer.ts';
import type { Db } from '../store/schema.ts';

/** How often expired memory and payloads past retention are deleted. Reads check expiry themselves. */
export const RETENTION_SWEEP_INTERVAL_MS = 60_000;

const SWEEP_ACTOR = { actor: 'host' };

export type RetentionSweepDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  memory: MemoryStore;
  payloads: PayloadStore;
  policies: PolicyPacks;
  logger: Logger;
  /** Fires each sweep; tests fire it by hand (what time it is comes from `clock`). */
  timer: WakeTimer;
  intervalMs?: number;
};

/**
 * The host's retention (issue 22): every interval, memory items past `expires_at` are
 * deleted (one `memory.purged`, reason `expired`, per sweep that deletes any), and the
 * payloads of runs ended longer ago than their pack's `payload_retention_ms` lose their
 * content (one `payloads.purged`, reason `retention`, per run). One sweep at a time; a
 * failed sweep is logged and the next one tries again. Disposing stops the timer and waits
 * for a sweep under way.
 */
export function startRetentionSweep(deps: RetentionSweepDeps): Disposable {
  const interval = deps.intervalMs ?? RETENTION_SWEEP_INTERVAL_MS;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let handle: TimerHandle | undefined;
  const wake = (): void => {
    running = running
      .then(() => sweepOnce(deps))
      .catch((err: unknown) => {
        deps.logger.error({ err }, 'could not delete expired memory or payloads');
      })
      .then(() => {
        if (!stopped) handle = deps.timer.set(interval, wake);
      });
  };
  handle = deps.timer.set(interval, wake);
  return {
    dispose: async () => {
      stopped = true;
      handle?.dispose();
      await running;
    },
  };
}

async function sweepOnce(deps: RetentionSweepDeps): Promise<void> {
  const expired = await deps.chain.transact((tx) =>
    deps.memory.sweepExpiredIn(tx, { ...SWEEP_ACTOR, data: {} }),
  );
  if (expired > 0) deps.logger.info({ purged: expired }, 'expired memory items deleted');
  const runs = await runsPastPayloadRetention(deps.db, deps.policies, deps.clock.now());
  for (const runId of runs) await deps.payloads.purge(runId, SWEEP_ACTOR, 'retention');
  if (runs.length > 0) deps.logger.info({ runs: runs.length }, 'payloads past retention purged');
}
