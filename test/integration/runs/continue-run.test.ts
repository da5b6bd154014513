import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { DATABASE_FILE } from '../../../main/store/open-store.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import {
  callEntry,
  doneEntry,
  ECHO,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';
import { errorOf, startGatewayHost } from '../gateway/helpers/gateway-host.ts';

/**
 * Continuing an ended run (issue 24): a run that failed on its budget goes on as a new run
 * with `parent_run_id`, a new budget and the original's last checkpoint; the original stays
 * failed and keeps its budget.
 */
describe('POST /v1/runs/{id}/continue', () => {
  let h: AutonomyHost;
  beforeAll(async () => {
    h = await startAutonomyHost({
      transcript: {
        on_exhausted: 'loop_last',
        entries: [callEntry('call_1', ECHO, { text: 'hello' }), doneEntry('Said hello.')],
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('continues a run that ran out of steps from its last checkpoint, under a new budget', async () => {
    const original = await h.createRun({ goal: 'say hello', budget: { max_steps: 2 } });
    const failed = await h.settle(original.id);
    expect(failed.state).toBe('failed');
    expect(failed.state_reason).toBe('budget_exceeded:steps');

    const res = await h.request('POST', `/v1/runs/${original.id}/continue`, {
      budget: { max_steps: 20 },
      reason: 'more steps',
    });
    expect(res.status, res.text).toBe(201);
    const next = res.body as Run;
    expect(next.parent_run_id).toBe(original.id);
    expect(next.goal).toBe('say hello');
    expect(next.budget.max_steps).toBe(20);

    const db = path.join(h.dataDir, DATABASE_FILE);
    const rows = (await rawSql(
      db,
      'SELECT run_id, agent_state FROM checkpoints WHERE run_id IN (?, ?) ORDER BY id',
      [original.id, next.id],
    )) as { run_id: string; agent_state: string }[];
    const last = rows.filter((r) => r.run_id === original.id).at(-1);
    const first = rows.find((r) => r.run_id === next.id);
    expect(last).toBeDefined();
    expect(first?.agent_state).toBe(last?.agent_state);

    const done = await h.settle(next.id);
    expect(done.state).toBe('done');
    const created = await h.runChain(next.id, 'run.created');
    expect(created[0]?.data.parent_run_id).toBe(original.id);
    // The original is untouched: still failed, its budget as it was.
    const after = (await h.getRun(original.id)).run;
    expect(after.state).toBe('failed');
    expect(after.budget.max_steps).toBe(2);
  });

  it('refuses to continue a run that has not ended, and an unknown run', async () => {
    // Without an LLM provider runs stay pending: a run that has certainly not ended.
    const gw = await startGatewayHost();
    try {
      const created = await gw.request('POST', '/v1/runs', { json: { goal: 'still going' } });
      const live = created.body as Run;
      const res = await gw.request('POST', `/v1/runs/${live.id}/continue`);
      expect(res.status).toBe(409);
      expect(errorOf(res).message).toContain('only an ended run can be continued');
      const unknown = await gw.request('POST', '/v1/runs/run_nope/continue');
      expect(unknown.status).toBe(404);
      await gw.request('POST', `/v1/runs/${live.id}/cancel`);
      const cancelled = await gw.request('POST', `/v1/runs/${live.id}/continue`);
      expect(cancelled.status).toBe(201);
      expect((cancelled.body as Run).parent_run_id).toBe(live.id);
    } finally {
      await gw.stop();
    }
  });
});
