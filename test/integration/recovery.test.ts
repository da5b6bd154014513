import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunState, Usage } from '../../contracts/runs.ts';
import { parseHostConfig } from '../../main/config.ts';
import { Host, HOST_ACTOR } from '../../main/host.ts';
import type { RunService } from '../../main/runs/run-service.ts';
import { openStore } from '../../main/store/open-store.ts';
import { makeTempDir, openTestServices, removeTempDir } from '../support/test-store.ts';
import { testHostEnv } from '../support/test-host-env.ts';

const ACTOR = { actor: 'test' };

/** Drives a fresh run to `state` along legal transitions. */
async function runIn(
  runs: RunService,
  state: RunState,
  budget: { max_retries: number },
  retries = 0,
): Promise<string> {
  const run = await runs.create({ goal: `left ${state}`, budget }, ACTOR);
  if (state === 'pending') return run.id;
  const usage: Usage = { ...run.usage, retries };
  await runs.transition(run.id, 'running', { ...ACTOR, usage });
  if (state === 'running') return run.id;
  const reason = state === 'done' || state === 'cancelled' ? null : `test ${state}`;
  await runs.transition(run.id, state, {
    ...ACTOR,
    reason,
    ...(state === 'paused_external_event' ? { waiting_for: 'test.event' } : {}),
  });
  return run.id;
}

function startHost(dataDir: string): Host {
  const config = parseHostConfig({ data_dir: dataDir, log_level: 'silent' }, testHostEnv());
  return new Host(config, { logger: pino({ level: 'silent' }) });
}

describe('start-up recovery through a real Host', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-recovery-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('resumes running runs with retries left, fails spent ones, leaves the rest', async () => {
    const before = await openTestServices({ dataDir });
    const ids = {
      fresh: await runIn(before.runs, 'running', { max_retries: 3 }, 0),
      lastRetry: await runIn(before.runs, 'running', { max_retries: 3 }, 2),
      spent: await runIn(before.runs, 'running', { max_retries: 3 }, 3),
      noRetries: await runIn(before.runs, 'running', { max_retries: 0 }, 0),
      pending: await runIn(before.runs, 'pending', { max_retries: 3 }),
      pausedApproval: await runIn(before.runs, 'paused_approval', { max_retries: 3 }),
      pausedEvent: await runIn(before.runs, 'paused_external_event', { max_retries: 3 }),
      pausedSchedule: await runIn(before.runs, 'paused_schedule', { max_retries: 3 }),
      done: await runIn(before.runs, 'done', { max_retries: 3 }),
      failed: await runIn(before.runs, 'failed', { max_retries: 3 }),
      cancelled: await runIn(before.runs, 'cancelled', { max_retries: 3 }),
    };
    const untouched = [
      ids.pending,
      ids.pausedApproval,
      ids.pausedEvent,
      ids.pausedSchedule,
      ids.done,
      ids.failed,
      ids.cancelled,
    ];
    const snapshot = new Map(
      await Promise.all(untouched.map(async (id) => [id, await before.runs.get(id)] as const)),
    );
    const entriesBefore = (await before.chain.verify()).entries;
    await before.close();

    const host = startHost(dataDir);
    const started = await host.start();
    try {
      const { runs, chain } = started;
      expect(new Map(started.recovery.map((r) => [r.run_id, r.outcome]))).toEqual(
        new Map([
          [ids.fresh, 'resumable'],
          [ids.lastRetry, 'resumable'],
          [ids.spent, 'failed'],
          [ids.noRetries, 'failed'],
        ]),
      );

      for (const [id, retriesBefore] of [
        [ids.fresh, 0],
        [ids.lastRetry, 2],
      ] as const) {
        const run = await runs.get(id);
        expect(run).toMatchObject({ state: 'pending', usage: { retries: retriesBefore + 1 } });
        const { entries } = await chain.query({ run_id: id });
        expect(entries.at(-1)).toMatchObject({
          event_type: 'run.transition',
          actor: HOST_ACTOR,
          data: {
            from: 'running',
            to: 'pending',
            trigger: 'recovery',
            usage: { retries: retriesBefore + 1 },
          },
        });
      }
      for (const [id, retries] of [
        [ids.spent, 3],
        [ids.noRetries, 0],
      ] as const) {
        const run = await runs.get(id);
        expect(run).toMatchObject({
          state: 'failed',
          state_reason: 'retries_exhausted',
          usage: { retries },
        });
        const { entries } = await chain.query({ run_id: id });
        expect(entries.at(-1)).toMatchObject({
          event_type: 'run.transition',
          actor: HOST_ACTOR,
          data: { from: 'running', to: 'failed', reason: 'retries_exhausted' },
        });
      }
      for (const id of untouched) expect(await runs.get(id)).toEqual(snapshot.get(id));
      // Exactly one entry per recovered run, and the chain still verifies.
      const verified = await chain.verify();
      expect(verified).toMatchObject({ ok: true, entries: entriesBefore + 4 });
      expect(await runs.list({ state: 'running' })).toEqual([]);
    } finally {
      await host.stop();
    }

    // A second start finds nothing left to recover.
    const again = startHost(dataDir);
    try {
      expect((await again.start()).recovery).toEqual([]);
    } finally {
      await again.stop();
    }
  });

  it('stop() closes the database it opened', async () => {
    const host = startHost(dataDir);
    const { store, runs } = await host.start();
    await runs.create({ goal: 'survives a stop' }, ACTOR);
    expect(existsSync(`${store.file}-wal`)).toBe(true);
    await host.stop();
    // SQLite removes the WAL file when the last connection to the database closes.
    expect(existsSync(`${store.file}-wal`)).toBe(false);
    expect(() => host.started).toThrow();
    await expect(store.db.selectFrom('runs').selectAll().execute()).rejects.toThrow();
    await host.stop(); // idempotent

    const reopened = await openStore({ dataDir });
    try {
      const rows = await reopened.db.selectFrom('runs').select('goal').execute();
      expect(rows).toEqual([{ goal: 'survives a stop' }]);
      expect(reopened.applied).toEqual([]);
    } finally {
      await reopened.close();
    }
  });
});

/**
 * Issue 17 #19: an agent-session token a crash left behind (its segment never ended, so
 * nothing revoked it) must not outlive the host that minted it.
 */
describe('start-up recovery of agent-session tokens', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-recovery-');
  });
  afterEach(async () => {
    await removeTempDir(dataDir);
  });

  it('revokes every agent-session token still valid, and audits each; others keep working', async () => {
    const before = await openTestServices({ dataDir });
    const { tokens } = before.host.started;
    const runId = await runIn(before.runs, 'running', { max_retries: 3 });
    const left = await tokens.create(
      { kind: 'agent_session', label: 'segment cut short', run_id: runId },
      ACTOR,
    );
    const connector = await tokens.create(
      { kind: 'connector', label: 'c', connector_id: 'c', scopes: ['runs:read'] },
      ACTOR,
    );
    expect(await tokens.authenticate(left.token)).toMatchObject({ ok: true });
    await before.close();

    const after = await openTestServices({ dataDir });
    try {
      const started = after.host.started;
      expect(await started.tokens.authenticate(left.token)).toMatchObject({
        ok: false,
        reason: 'revoked_token',
      });
      expect(await started.tokens.authenticate(connector.token)).toMatchObject({ ok: true });
      const { entries } = await after.chain.query({ event_type: 'token.revoked' });
      expect(entries.map((e) => e.data)).toEqual([
        { token_id: left.info.id, kind: 'agent_session', reason: 'stale_after_restart' },
      ]);
      expect(entries[0]).toMatchObject({ actor: HOST_ACTOR, run_id: runId });
    } finally {
      await after.close();
    }
    // A second start finds nothing left to revoke.
    const again = await openTestServices({ dataDir });
    const { entries } = await again.chain.query({ event_type: 'token.revoked' });
    await again.close();
    expect(entries).toHaveLength(1);
  });
});
