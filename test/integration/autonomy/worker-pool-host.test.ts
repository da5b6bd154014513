import { afterEach, describe, expect, it } from 'vitest';
import {
  RUN_TIMEOUT_MS,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { descendantsOf } from '../../support/process-tree.ts';

/** Long enough for a loaded machine to start a replacement worker; it is an event, not a timing. */
const REPLACED_WITHIN_MS = 30_000;

describe("the host's pool of pre-started workers", () => {
  let h: AutonomyHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it(
    'replaces an idle worker that dies without charging any run, and leaves no process behind on stop',
    async () => {
      const before = descendantsOf(process.pid);
      h = await startAutonomyHost({
        transcript: { entries: [doneEntry('Done.')] },
        workerPoolSize: 2,
      });
      const pool = h.started.supervisor?.workers;
      if (pool === undefined) throw new Error('the host started no supervisor');
      const [dying, other] = pool.idlePids;
      if (dying === undefined || other === undefined) throw new Error('no idle workers');
      const started = descendantsOf(process.pid);
      expect(started).toContain(dying);
      expect(started).toContain(other);

      process.kill(dying, 'SIGKILL');
      await expect
        .poll(() => pool.idlePids.length === 2 && !pool.idlePids.includes(dying), {
          timeout: REPLACED_WITHIN_MS,
        })
        .toBe(true);
      const replacement = pool.idlePids.find((pid) => pid !== other);

      const run = await h.createRun({ goal: 'say done' });
      const settled = await h.settle(run.id);
      expect(settled.state).toBe('done');
      // The dead idle worker was nobody's: the run was charged no retry for it.
      expect(settled.usage.retries).toBe(0);

      const seen = [other, replacement, ...pool.idlePids].filter(
        (pid): pid is number => pid !== undefined,
      );
      await h.stop();
      const after = descendantsOf(process.pid);
      for (const pid of seen) expect(after).not.toContain(pid);
      expect([...after].filter((pid) => !before.has(pid))).toEqual([]);
    },
    RUN_TIMEOUT_MS * 2,
  );
});
