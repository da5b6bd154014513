import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostControls } from '../../../main/runs/host-controls.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';

describe('HostControls', () => {
  let services: TestServices;
  beforeEach(async () => {
    services = await openTestServices();
  });
  afterEach(async () => {
    await services.close();
  });

  const fresh = () =>
    new HostControls({
      db: services.store.db,
      chain: services.chain,
      clock: { now: () => new Date() },
      maxConcurrent: 4,
    }).load();

  it('a pause and the caps survive a restart: a paused fleet does not start again with the host', async () => {
    const controls = await fresh();
    await controls.pause({ reason: 'incident' }, { actor: 'admin' });
    await controls.setLimits(
      { max_concurrent_runs: 2, max_tokens_per_day: 100 },
      { actor: 'admin' },
    );
    const again = await fresh();
    expect(again.status()).toMatchObject({
      paused: true,
      paused_reason: 'incident',
      max_concurrent_runs: 2,
      max_tokens_per_day: 100,
    });
    expect(again.holdNote()?.waiting_for).toBe('agents_resume');
    await again.resume({ actor: 'admin' });
    expect((await fresh()).paused).toBe(false);
  });

  it('a concurrency cap only lowers the start-up setting; null removes a cap, omitted keeps it', async () => {
    const controls = await fresh();
    await controls.setLimits({ max_concurrent_runs: 10 }, { actor: 'admin' });
    expect(controls.maxConcurrent).toBe(4);
    await controls.setLimits({ max_tokens_per_day: 5 }, { actor: 'admin' });
    expect(controls.status().max_concurrent_runs).toBe(10);
    await controls.setLimits({ max_concurrent_runs: null }, { actor: 'admin' });
    expect(controls.status()).toMatchObject({ max_concurrent_runs: null, max_tokens_per_day: 5 });
    controls.chargeTokens(5);
    expect(controls.tokensLeftToday()).toBe(0);
    expect(controls.holdNote()?.waiting_for).toBe('tokens_per_day');
  });
});
