import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainEntrySchema } from '../../contracts/chain.ts';
import { runStateSchema, type RunState } from '../../contracts/runs.ts';
import { makeTempDir, openTestServices, removeTempDir } from '../support/test-store.ts';
import { tunable } from '../support/tunable.ts';

const DRIVER = fileURLToPath(new URL('./fixtures/crash-driver.ts', import.meta.url));
/** Kills of the driver (issue 2 asks for at least 20); `CCOS_TEST_CRASH_KILLS` changes it. */
const KILLS = tunable('CRASH_KILLS', 24);
const MAX_DELAY_MS = 120;
const STARTUP_TIMEOUT_MS = 60_000;

type ChildRun = {
  /** The last `c <seq> <hash>` line: an entry the child saw committed. */
  lastCommitted: { seq: number; hash: string } | undefined;
  committedAfterStart: number;
  signal: NodeJS.Signals | null;
  stderr: string;
};

/** Starts the driver, kills it with SIGKILL a random moment after it reports `started`. */
function runAndKill(dataDir: string, seed: number, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', DRIVER, dataDir, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result: ChildRun = {
      lastCommitted: undefined,
      committedAfterStart: 0,
      signal: null,
      stderr: '',
    };
    let started = false;
    let buffered = '';
    const startupTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`driver did not start within ${STARTUP_TIMEOUT_MS} ms: ${result.stderr}`));
    }, STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, seq, hash] = line.split(' ');
        if (kind === 'c' && seq !== undefined && hash !== undefined) {
          result.lastCommitted = { seq: Number(seq), hash };
          if (started) result.committedAfterStart++;
        } else if (line === 'started' && !started) {
          started = true;
          clearTimeout(startupTimer);
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (result.stderr += chunk));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(startupTimer);
      result.signal = signal;
      resolve(result);
    });
  });
}

/** The state a run must be in according to its last chain entry. */
function stateNamedBy(entry: { event_type: string; data: string }): RunState {
  const data = JSON.parse(entry.data) as Record<string, unknown>;
  if (entry.event_type === 'run.created') return 'pending';
  if (entry.event_type === 'run.transition') return runStateSchema.parse(data.to);
  throw new Error(`unexpected last entry for a run: ${entry.event_type}`);
}

describe('crash safety under SIGKILL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await makeTempDir('ccos-crash-');
  });
  afterAll(async () => {
    await removeTempDir(dataDir);
  });

  it(
    `loses and half-writes no transition across ${KILLS} kills`,
    // A bound on a real hang, not a speed check: 24 driver start-ups (each opening the store
    // and migrating) took over 120 s with both cores saturated by other work.
    { timeout: 600_000 },
    async () => {
      let committed = 0;
      let previousEntries = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const seed = Math.floor(Math.random() * 2 ** 31);
        const delay = Math.floor(Math.random() * MAX_DELAY_MS);
        const child = await runAndKill(dataDir, seed, delay);
        const where = `kill ${kill} (seed ${seed}, delay ${delay} ms)`;
        expect(child.signal, `${where}: the driver died by itself: ${child.stderr}`).toBe(
          'SIGKILL',
        );
        committed += child.committedAfterStart;

        const services = await openTestServices({ dataDir });
        try {
          const verified = await services.chain.verify();
          expect(verified, where).toMatchObject({ ok: true });
          if (!verified.ok) return;
          // Nothing committed is lost, and the chain never shrinks.
          expect(verified.entries, where).toBeGreaterThanOrEqual(previousEntries);
          previousEntries = verified.entries;
          const db = services.store.db;
          if (child.lastCommitted !== undefined) {
            const row = await db
              .selectFrom('chain')
              .selectAll()
              .where('seq', '=', child.lastCommitted.seq)
              .executeTakeFirst();
            expect(row?.hash, `${where}: committed entry ${child.lastCommitted.seq}`).toBe(
              child.lastCommitted.hash,
            );
          }
          // Every run's row agrees with its chain, and its creation wrote all of its rows.
          const runs = await db.selectFrom('runs').select(['id', 'state']).execute();
          for (const run of runs) {
            const last = await db
              .selectFrom('chain')
              .select(['event_type', 'data'])
              .where('run_id', '=', run.id)
              .orderBy('seq', 'desc')
              .limit(1)
              .executeTakeFirstOrThrow();
            expect(run.state, `${where}: run ${run.id}`).toBe(stateNamedBy(last));
            const goals = await db
              .selectFrom('goals')
              .select('ordinal')
              .where('run_id', '=', run.id)
              .execute();
            expect(goals.length, `${where}: goals of ${run.id}`).toBeGreaterThan(0);
          }
          // No entry names a run that does not exist.
          const orphans = await db
            .selectFrom('chain')
            .select('seq')
            .where('run_id', 'is not', null)
            .where('run_id', 'not in', db.selectFrom('runs').select('id'))
            .execute();
          expect(orphans, where).toEqual([]);
          const entries = await db.selectFrom('chain').selectAll().limit(5).execute();
          for (const e of entries)
            chainEntrySchema.parse({ ...e, data: JSON.parse(e.data) as unknown });
        } finally {
          await services.close();
        }
      }
      // The children did real work between start and kill, so the kills landed mid-flight.
      expect(committed).toBeGreaterThan(KILLS);
    },
  );
});
