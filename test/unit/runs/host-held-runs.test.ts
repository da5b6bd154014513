import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostHeldRuns } from '../../../main/runs/host-held-runs.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';

const ADMIN = { actor: 'admin-token', origin: 'api' as const };
const HOST = { actor: 'host' };
const REQUEST = {
  goal: 'Set up Mailer',
  started: 'skill setup started',
  parked: 'the host runs the setup steps; no agent works on this run',
  waiting_for: 'ccos.skill.onboarding',
};

/*
 * A run the host holds for its own work (a skill's setup): the run domain, not the caller,
 * knows the transitions that park it where no agent is handed it and end it when the work does.
 */
describe('HostHeldRuns', () => {
  let services: TestServices;
  let held: HostHeldRuns;
  beforeEach(async () => {
    services = await openTestServices();
    held = new HostHeldRuns({ runs: services.runs });
  });
  afterEach(async () => {
    await services.close();
  });

  async function transitions(runId: string): Promise<unknown[]> {
    const { entries } = await services.chain.query({ run_id: runId });
    return entries
      .filter((e) => e.event_type === 'run.transition')
      .map((e) => {
        const data = e.data as { from: string; to: string; reason: string };
        return [e.actor, data.from, data.to, data.reason];
      });
  }

  it('holds a new run parked for the event no agent sends, created by the person who asked', async () => {
    const id = await services.chain.transact((tx) => held.holdIn(tx, null, REQUEST, ADMIN));
    const run = await services.runs.get(id);
    expect(run).toMatchObject({
      goal: REQUEST.goal,
      state: 'paused_external_event',
      waiting_for: REQUEST.waiting_for,
      created_by: ADMIN.actor,
    });
    expect(await transitions(id)).toEqual([
      [ADMIN.actor, 'pending', 'running', REQUEST.started],
      [ADMIN.actor, 'running', 'paused_external_event', REQUEST.parked],
    ]);
  });

  it('keeps holding a run that has not ended, and replaces one that has', async () => {
    const first = await services.chain.transact((tx) => held.holdIn(tx, null, REQUEST, ADMIN));
    const again = await services.chain.transact((tx) => held.holdIn(tx, first, REQUEST, ADMIN));
    expect(again).toBe(first);
    await services.runs.cancel(first, ADMIN, 'a person stopped setup');
    const replaced = await services.chain.transact((tx) => held.holdIn(tx, first, REQUEST, ADMIN));
    expect(replaced).not.toBe(first);
    expect((await services.runs.get(replaced)).state).toBe('paused_external_event');
  });

  it('releases a held run as done, and leaves a cancelled one cancelled', async () => {
    const id = await services.chain.transact((tx) => held.holdIn(tx, null, REQUEST, ADMIN));
    await services.chain.transact((tx) => held.releaseIn(tx, id, 'Mailer is set up', HOST));
    expect((await services.runs.get(id)).state).toBe('done');
    expect((await transitions(id)).slice(2)).toEqual([
      [HOST.actor, 'paused_external_event', 'pending', 'Mailer is set up'],
      [HOST.actor, 'pending', 'running', 'Mailer is set up'],
      [HOST.actor, 'running', 'done', 'Mailer is set up'],
    ]);

    const other = await services.chain.transact((tx) => held.holdIn(tx, null, REQUEST, ADMIN));
    await services.runs.cancel(other, ADMIN, 'not needed');
    await services.chain.transact((tx) => held.releaseIn(tx, other, 'Mailer is set up', HOST));
    expect((await services.runs.get(other)).state).toBe('cancelled');
  });
});
