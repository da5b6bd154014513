import type { Logger } from 'pino';
import type { Disposable } from '../disposable.ts';
import type { QuarantineStore } from './quarantine-store.ts';

/** How often expired blobs are deleted. A dereference checks the TTL itself, to the instant. */
export const QUARANTINE_SWEEP_INTERVAL_MS = 60_000;

const SWEEP_ACTOR = { actor: 'host' };

/**
 * Deletes expired quarantine blobs now and every `intervalMs` after; each sweep that deletes
 * anything is a `quarantine.purged` entry (reason `ttl`). The timer does not keep the
 * process alive; disposing stops it and waits for a sweep under way.
 */
export function startQuarantineSweep(
  store: QuarantineStore,
  logger: Logger,
  intervalMs = QUARANTINE_SWEEP_INTERVAL_MS,
): Disposable {
  let running: Promise<void> = Promise.resolve();
  const sweep = (): void => {
    running = running
      .then(async () => {
        const { purged } = await store.sweepExpired(SWEEP_ACTOR);
        if (purged > 0) logger.info({ purged }, 'expired quarantined content deleted');
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'could not delete expired quarantined content');
      });
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    dispose: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
