import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import {
  errorFields,
  startGatewayHost,
  type GatewayTestHost,
} from '../gateway/helpers/gateway-host.ts';
import { manualClock, type ManualClock } from '../../support/test-store.ts';

const ACTOR = { actor: 'test' };
/** The host's "now" in these tests. */
const NOW = '2030-01-01T05:00:00.000Z';
/** 01:00 UTC: four hours ago, although its text sorts after NOW's. */
const PASSED_TOKYO = '2030-01-01T10:00:00+09:00';
/** 07:00 UTC: two hours ahead, although its text sorts before NOW's. */
const AHEAD_NEW_YORK = '2030-01-01T02:00:00-05:00';

/**
 * Issue 17 #12: an instant with an offset is a point in time, not a string. Deadlines and the
 * chain's `since`/`until` accept any offset, are normalised to UTC at the edge and compared
 * as instants, so `+09:00` and `-05:00` mean what they say.
 */
describe('instants with offsets', () => {
  let gw: GatewayTestHost | undefined;
  let clock: ManualClock;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  async function start(): Promise<GatewayTestHost> {
    clock = manualClock(NOW);
    gw = await startGatewayHost({ clock });
    return gw;
  }

  async function deadlineOverrun(h: GatewayTestHost, run: Run) {
    return h.started.chain.transact((tx) => h.started.meter.checkIn(tx, run, { activeMs: 0 }));
  }

  it('a deadline is stored in UTC and enforced as an instant (+09:00 passed, -05:00 ahead)', async () => {
    const h = await start();
    const create = async (deadline: string) => {
      const res = await h.request('POST', '/v1/runs', {
        json: { goal: 'g', budget: { deadline } },
      });
      expect(res.status, res.text).toBe(201);
      return res.body as Run;
    };
    const tokyo = await create(PASSED_TOKYO);
    const newYork = await create(AHEAD_NEW_YORK);
    expect(tokyo.budget.deadline).toBe('2030-01-01T01:00:00.000Z');
    expect(newYork.budget.deadline).toBe('2030-01-01T07:00:00.000Z');

    expect(await deadlineOverrun(h, tokyo)).toMatchObject({ kind: 'deadline' });
    expect(await deadlineOverrun(h, newYork)).toBeUndefined();
  });

  it('a deadline still carrying its offset (a row from before normalisation) compares as an instant', async () => {
    const h = await start();
    const run = await h.started.runs.create({ goal: 'g' }, ACTOR);
    const withOffset = (deadline: string): Run => ({ ...run, budget: { ...run.budget, deadline } });
    expect(await deadlineOverrun(h, withOffset(PASSED_TOKYO))).toMatchObject({
      kind: 'deadline',
      limit: Date.parse(PASSED_TOKYO),
    });
    expect(await deadlineOverrun(h, withOffset(AHEAD_NEW_YORK))).toBeUndefined();
    clock.set('2030-01-01T07:00:00.000Z');
    expect(await deadlineOverrun(h, withOffset(AHEAD_NEW_YORK))).toMatchObject({
      kind: 'deadline',
    });
  });

  it('chain since/until with +09:00 and -05:00 select by instant; a non-instant is a 400', async () => {
    const h = await start();
    // Entries at 00:00, 03:00, 06:00 and 09:00 UTC.
    clock.set('2030-01-01T00:00:00.000Z');
    const runs: Run[] = [];
    for (let i = 0; i < 4; i += 1) {
      runs.push(await h.started.runs.create({ goal: `g${i}` }, ACTOR));
      clock.advance(3 * 60 * 60 * 1000);
    }
    const goalsOf = async (query: string) => {
      const res = await h.request('GET', `/v1/chain?event_type=run.created&${query}`);
      expect(res.status, res.text).toBe(200);
      const ids = (res.body as { entries: ChainEntry[] }).entries.map((e) => e.run_id);
      return runs.flatMap((r, i) => (ids.includes(r.id) ? [i] : []));
    };
    // since 10:00+09:00 = 01:00Z, until 02:00-05:00 = 07:00Z: the 03:00 and 06:00 entries.
    expect(
      await goalsOf(
        `since=${encodeURIComponent(PASSED_TOKYO)}&until=${encodeURIComponent(AHEAD_NEW_YORK)}`,
      ),
    ).toEqual([1, 2]);
    expect(await goalsOf(`since=${encodeURIComponent('2030-01-01T04:00:00-05:00')}`)).toEqual([3]);
    expect(await goalsOf(`until=${encodeURIComponent('2030-01-01T12:00:00+09:00')}`)).toEqual([0]);
    const bad = await h.request('GET', '/v1/chain?since=yesterday');
    expect(bad.status).toBe(400);
    expect(errorFields(bad)).toContain('since');
  });
});
