import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_POOL_SIZE } from '../../../main/config.ts';
import { DATABASE_FILE } from '../../../main/store/open-store.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

const ONE_STEP = pack('one-step', { segment_max_steps: 1 });

/** Issue 18, supervisor correctness: how a segment ends never strands a run or leaks a folder. */
describe('closing a segment', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it(
    'removes each worker’s temporary folder once its segment has ended',
    async () => {
      host = await startAutonomyHost({
        packs: [ONE_STEP],
        transcript: { entries: [callEntry('c1', ECHO, { text: 'one' }), doneEntry()] },
      });
      const run = await host.createRun({ goal: 'echo once', policy_pack: 'one-step' });
      expect((await host.settle(run.id)).state).toBe('done');
      const segments = await host.runChain(run.id, 'segment.ended');
      expect(segments.length).toBeGreaterThanOrEqual(2);
      // Worker folders are named for the host's process (a pre-started worker has no run yet):
      // what is left are the pool's idle workers' folders, none of the segments'.
      const prefix = `ccos-worker-${String(process.pid)}-`;
      const folders = async (): Promise<string[]> =>
        (await readdir(tmpdir())).filter((name) => name.startsWith(prefix));
      const idle = host.started.supervisor?.workers.idlePids ?? [];
      expect(idle.length).toBe(DEFAULT_WORKER_POOL_SIZE);
      // The jail gives each worker a private tmpfs instead of a folder of the host's.
      const perWorker = host.started.agents.isolation === 'bubblewrap' ? 0 : 1;
      expect(await folders()).toHaveLength(idle.length * perWorker);
      await host.stop();
      expect(await folders()).toEqual([]);
    },
    RUN_TIMEOUT_MS * 2,
  );

  it(
    'fails the run with the reason when its end cannot be committed, instead of leaving it running',
    async () => {
      host = await startAutonomyHost({
        packs: [ONE_STEP],
        transcript: { entries: [callEntry('c1', ECHO, { text: 'one' }), doneEntry()] },
      });
      // A fault in the store that only the segment's end meets (a full disk looks the same).
      await rawSql(
        path.join(host.dataDir, DATABASE_FILE),
        `create trigger injected_close_fault before insert on chain
           when new.event_type = 'segment.ended'
           begin select raise(abort, 'injected fault: disk I/O error'); end`,
      );
      const run = await host.createRun({ goal: 'echo once', policy_pack: 'one-step' });
      const failed = await host.waitForState(run.id, ['failed', 'done', 'cancelled']);
      expect(failed.state).toBe('failed');
      expect(failed.state_reason).toMatch(/^segment_close_failed: .*injected fault/);
      expect(host.started.supervisor?.activeRuns).not.toContain(run.id);
    },
    RUN_TIMEOUT_MS * 2,
  );
});
