import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { Grant } from '../../../contracts/grants.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import {
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

const REMEMBER = 'echo-notes__remember';

/**
 * Issue 22 through a real worker: the agent (replay LLM) writes three notes under the default
 * pack, which asks before every memory write. A grant of one use lets exactly one later call
 * through; the next asks again.
 */
describe('a standing grant in a real worker run', () => {
  let h: AutonomyHost;

  beforeAll(async () => {
    h = await startAutonomyHost({
      transcript: {
        entries: [
          callEntry('call_1', REMEMBER, { key: 'a', note: 'first' }),
          callEntry('call_2', REMEMBER, { key: 'b', note: 'second' }),
          callEntry('call_3', REMEMBER, { key: 'c', note: 'third' }),
          doneEntry('Noted all three.'),
        ],
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  async function pendingOf(runId: string): Promise<Approval> {
    await h.waitForState(runId, ['paused_approval']);
    const [approval] = (await h.getRun(runId)).pending_approvals;
    if (approval === undefined) throw new Error(`run ${runId} waits for no approval`);
    return approval;
  }

  it('one use lets the second call through without asking; the third asks again', async () => {
    const run = await h.createRun({
      goal: 'note three things',
      policy_pack: DEFAULT_POLICY_PACK.id,
    });
    const first = await pendingOf(run.id);
    const decided = await h.request('POST', `/v1/approvals/${first.id}`, {
      decision: 'approve',
      grant: { scope: 'run', uses: 1 },
    });
    expect(decided.status, decided.text).toBe(200);
    const { grant } = decided.body as { grant: Grant };

    const third = await pendingOf(run.id);
    expect(third.id).not.toBe(first.id);
    expect(third.request).toMatchObject({ params: { key: 'c' } });
    expect(
      (await h.request('POST', `/v1/approvals/${third.id}`, { decision: 'approve' })).status,
    ).toBe(200);
    expect((await h.settle(run.id)).state).toBe('done');

    const used = await h.runChain(run.id, 'grant.used');
    expect(used.map((e) => e.data)).toMatchObject([{ grant_id: grant.id, use: 1, max_uses: 1 }]);
    expect(await h.runChain(run.id, 'approval.request')).toHaveLength(2);
    const executed = (await h.runChain(run.id, 'skill.execute')).filter(
      (e) => e.data.outcome === 'ok',
    );
    expect(executed).toHaveLength(3);
  });
});
