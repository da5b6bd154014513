import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CreateScheduleInput,
  Schedule,
  ScheduleDetail,
} from '../../../contracts/schedules.ts';
import { CausalChain } from '../../../main/chain/causal-chain.ts';
import { ADMIN_TOKEN_FILE, GATEWAY_INFO_FILE } from '../../../main/data-dir-files.ts';
import { firesAfter } from '../../../main/scheduler/next-fire.ts';
import { fromScheduleRow } from '../../../main/scheduler/schedule-rows.ts';
import { openStore, type Store } from '../../../main/store/open-store.ts';
import { apiRequester, type ApiResponse } from '../autonomy/helpers/autonomy-host.ts';
import { REPO_ROOT, cliArgs } from '../gateway/helpers/run-cli.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { tunable } from '../../support/tunable.ts';

/** SIGKILLs of the host while fires are due (issue 21 asks for at least 20). */
const KILLS = tunable('SCHEDULER_KILLS', 24);
/** How long after the host proved it fires again the kill lands, at most. */
const MAX_KILL_DELAY_MS = 1500;
const START_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

/** Six schedules due every second or two, one of each catch-up policy and overlap mode. */
const POLICIES: Pick<CreateScheduleInput, 'catch_up' | 'overlap' | 'trigger'>[] = [
  { catch_up: 'all', overlap: 'allow', trigger: { kind: 'every', every_ms: 1000 } },
  { catch_up: 'all', overlap: 'skip', trigger: { kind: 'cron', expression: '* * * * * *' } },
  { catch_up: 'latest', overlap: 'allow', trigger: { kind: 'every', every_ms: 1000 } },
  { catch_up: 'latest', overlap: 'buffer_one', trigger: { kind: 'every', every_ms: 2000 } },
  { catch_up: 'none', overlap: 'allow', trigger: { kind: 'cron', expression: '*/2 * * * * *' } },
  { catch_up: 'none', overlap: 'skip', trigger: { kind: 'every', every_ms: 1000 } },
];
const SCHEDULES: CreateScheduleInput[] = POLICIES.map((s, i) => ({
  ...s,
  target: { kind: 'start', template: { goal: `crash ${i}`, budget: { max_tokens: 1000 } } },
  caps: { runs_per_day: 100_000, max_concurrent: 10_000, tokens_per_day: 100_000_000 },
}));

type Child = {
  request: (method: string, urlPath: string, json?: unknown) => Promise<ApiResponse>;
  kill: () => Promise<NodeJS.Signals | null>;
  stderr: () => string;
};

/** `ccos serve` (the built CLI) with no LLM: the runs fires start need no worker. */
async function startHost(dataDir: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    cliArgs(['--data-dir', dataDir, 'serve', '--port', '0', '--log-level', 'error']),
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`host exited during start-up: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`host did not start within ${START_TIMEOUT_MS} ms: ${stderr}`);
    }
    const info = await readFile(path.join(dataDir, GATEWAY_INFO_FILE), 'utf8')
      .then((t) => JSON.parse(t) as { url: string; pid: number })
      .catch(() => undefined);
    if (info !== undefined && info.pid === child.pid) {
      const token = (await readFile(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
      return {
        request: apiRequester(info.url, token),
        kill: async () => {
          child.kill('SIGKILL');
          const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
          return signal;
        },
        stderr: () => stderr,
      };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Resolves once some schedule has a fire claimed after `since`: the restarted host fires. */
async function firesAgain(host: Child, ids: readonly string[], since: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    for (const id of ids) {
      const res = await host.request('GET', `/v1/schedules/${id}`);
      const detail = res.body as ScheduleDetail;
      if (detail.recent_fires.some((f) => f.claimed_at > since)) return;
    }
    if (Date.now() > deadline) throw new Error(`no fire after ${since}: ${host.stderr()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * With the host dead: every schedule's fire rows are exactly its trigger's instants from the
 * first up to its cursor — none missing, none twice — each with exactly one chain entry of
 * its final outcome, each started run existing once, and catch-up as its policy says.
 */
async function checkExactlyOnce(store: Store, where: string): Promise<number> {
  const db = store.db;
  const schedules = (await db.selectFrom('schedules').selectAll().execute()).map(fromScheduleRow);
  const entries = await db
    .selectFrom('chain')
    .select(['event_type', 'data'])
    .where('event_type', 'in', ['schedule.fired', 'schedule.missed'])
    .orderBy('seq')
    .execute();
  const byFire = new Map<string, { type: string; outcome: unknown; from_buffer: unknown }[]>();
  for (const e of entries) {
    const d = JSON.parse(e.data) as Record<string, unknown>;
    // A missed entry names no source: only scheduled instants are ever missed.
    const source = typeof d.source === 'string' ? d.source : 'schedule';
    const key = `${String(d.schedule_id)} ${source} ${String(d.instant)}`;
    const list = byFire.get(key) ?? [];
    list.push({ type: e.event_type, outcome: d.outcome, from_buffer: d.from_buffer });
    byFire.set(key, list);
  }
  let rows = 0;
  for (const schedule of schedules) {
    const fires = await db
      .selectFrom('schedule_fires')
      .selectAll()
      .where('schedule_id', '=', schedule.id)
      .orderBy('instant')
      .execute();
    rows += fires.length;
    const label = `${where}: schedule ${schedule.catch_up}/${schedule.overlap}`;
    // The instants the trigger names up to the cursor, in order.
    const expected: string[] = [];
    const cursor = schedule.next_fire_at ?? '';
    for (const fire of firesAfter(schedule, Date.parse(schedule.created_at))) {
      const instant = new Date(fire.instant).toISOString();
      if (instant >= cursor) break;
      expected.push(instant);
    }
    expect(
      fires.map((f) => f.instant),
      label,
    ).toEqual(expected);
    for (const fire of fires) {
      const key = `${schedule.id} ${fire.source} ${fire.instant}`;
      const recorded = byFire.get(key) ?? [];
      const final = recorded.filter((r) => r.outcome !== 'buffered');
      if (fire.outcome === 'missed') {
        expect(recorded, `${label} ${fire.instant}`).toEqual([
          { type: 'schedule.missed', outcome: undefined, from_buffer: undefined },
        ]);
      } else if (fire.outcome === 'buffered') {
        expect(
          recorded.map((r) => r.outcome),
          `${label} ${fire.instant}`,
        ).toEqual(['buffered']);
      } else {
        expect(
          final.map((r) => r.outcome),
          `${label} ${fire.instant}`,
        ).toEqual([fire.outcome]);
      }
    }
    // Catch-up as the policy says: `all` never misses (the host is never down for an hour);
    // `latest` and `none` run at most one fire per pass, the newest.
    const missed = fires.filter((f) => f.outcome === 'missed');
    if (schedule.catch_up === 'all') expect(missed, label).toEqual([]);
    for (const m of missed) {
      expect(m.reason ?? '', label).toMatch(
        schedule.catch_up === 'none' ? /^catch_up_none:/ : /^(superseded|outside_window):/,
      );
      const samePass = fires.filter((f) => f.claimed_at === m.claimed_at);
      expect(samePass.filter((f) => f.outcome !== 'missed').length, label).toBeLessThanOrEqual(1);
    }
  }
  // Every run a fire started exists once, and no run was started without its fire row.
  const started = await db
    .selectFrom('schedule_fires')
    .select('run_id')
    .where('outcome', '=', 'started')
    .execute();
  const runs = await db
    .selectFrom('runs')
    .select('id')
    .where('created_by', '=', 'scheduler')
    .execute();
  expect(new Set(started.map((s) => s.run_id)).size, where).toBe(started.length);
  expect(runs.map((r) => r.id).sort(), where).toEqual(started.map((s) => s.run_id).sort());
  return rows;
}

describe('scheduler under SIGKILL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await makeTempDir('ccos-scheduler-crash-');
  });
  afterAll(async () => {
    await removeTempDir(dataDir);
  });

  it(
    `every due fire happens exactly once or is recorded missed per policy, across ${KILLS} kills`,
    { timeout: 900_000 },
    async () => {
      const first = await startHost(dataDir);
      const ids: string[] = [];
      for (const body of SCHEDULES) {
        const res = await first.request('POST', '/v1/schedules', body);
        expect(res.status, res.text).toBe(201);
        ids.push((res.body as Schedule).id);
      }
      let host = first;
      let previous = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const since = new Date().toISOString();
        await firesAgain(host, ids, since);
        const delay = Math.floor(Math.random() * MAX_KILL_DELAY_MS);
        await new Promise((r) => setTimeout(r, delay));
        const where = `kill ${kill} (${delay} ms after a fire)`;
        expect(await host.kill(), where).toBe('SIGKILL');

        const store = await openStore({ dataDir });
        try {
          const chain = new CausalChain({
            db: store.db,
            clock: { now: () => new Date() },
            policyPackVersion: '1',
          });
          expect(await chain.verify(), where).toMatchObject({ ok: true });
          const rows = await checkExactlyOnce(store, where);
          expect(rows, `${where}: fire rows only grow`).toBeGreaterThan(previous);
          previous = rows;
        } finally {
          await store.close();
        }
        host = await startHost(dataDir);
      }
      await host.kill();
    },
  );
});
