import { afterEach, describe, expect, it } from 'vitest';
import { doneEntry, startAutonomyHost, type AutonomyHost } from './helpers/autonomy-host.ts';

const TEST = { actor: 'test' };

/**
 * A pending run whose policy pack can no longer be found (neither its pinned version nor its
 * pack id: a run from before packs were versioned, whose pack file was removed) cannot get a
 * segment. It fails with the reason: no transition of it could commit before (each stamps the
 * run's pack version), so it stayed the oldest candidate of every fill, and no run behind it
 * started.
 */
describe('a run whose policy pack is gone', () => {
  let h: AutonomyHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('fails with policy_pack_unavailable, and the runs behind it still start', async () => {
    h = await startAutonomyHost({ transcript: { entries: [doneEntry('Done.')] } });
    await h.started.controls.pause({ reason: 'set up the test' }, TEST);
    const orphan = await h.createRun({ goal: 'held to a pack that is gone' });
    await h.started.store.db
      .updateTable('runs')
      .set({ policy_pack: 'removed-pack', policy_pack_version: null })
      .where('id', '=', orphan.id)
      .execute();
    const behind = await h.createRun({ goal: 'created after it' });
    await h.started.controls.resume(TEST);

    const failed = await h.waitForState(orphan.id, ['failed', 'done', 'running']);
    expect(failed.state).toBe('failed');
    expect(failed.state_reason).toMatch(
      /^policy_pack_unavailable: unknown policy pack "removed-pack"/,
    );
    expect(await h.runChain(orphan.id, 'segment.started')).toEqual([]);
    expect((await h.settle(behind.id)).state).toBe('done');
  });
});
