import { afterEach, describe, expect, it } from 'vitest';
import {
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';
import {
  SLOW_WAIT,
  startSlowServer,
  writeSlowSkill,
  type SlowServer,
} from './helpers/slow-skill.ts';

/** Resource kinds a stopped host must not leave behind (timers, sockets, child processes). */
const LEAKABLE = new Set(['Timeout', 'TCPServerWrap', 'TCPWrap', 'ProcessWrap', 'PipeWrap']);

function leakable(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (LEAKABLE.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * STYLE.md §4: `Host.stop()` disposes everything it started, in reverse order — the HTTP
 * listener, the workers of running segments, isolates, timers — and a run interrupted by
 * a clean stop is queued to resume without being charged a retry.
 */
describe('a clean host stop', () => {
  let h: AutonomyHost | undefined;
  let slow: SlowServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await h?.stop();
    await slow?.close();
    await cleanup?.();
  });

  it('leaves no listener, worker, timer or socket running, and costs the run no retry', async () => {
    slow = await startSlowServer();
    // Measured with the test's own server listening: only the host's resources must go.
    const baseline = leakable();
    const skill = await writeSlowSkill(slow.origin);
    cleanup = skill.cleanup;
    const spawner = new RecordingSpawner();
    h = await startAutonomyHost({
      transcript: { entries: [callEntry('c1', SLOW_WAIT, {}), doneEntry('Done.')] },
      spawner,
      allowLoopbackHttp: true,
    });
    await h.installSkill(skill.dir);
    slow.hold();
    const inFlight = slow.nextHit();
    const run = await h.createRun({ goal: 'Wait for the slow server.' });
    await inFlight;
    const pids = spawner.workers.map((w) => w.worker.pid);
    expect(pids.length).toBe(1);
    const url = h.started.gateway.url;

    await h.host.stop();
    slow.release();

    expect(pids.filter(isAlive)).toEqual([]);
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
    // Give closed handles one turn of the loop to leave the list.
    await new Promise((resolve) => setImmediate(resolve));
    const after = leakable();
    for (const [kind, count] of after)
      expect(count, kind).toBeLessThanOrEqual(baseline.get(kind) ?? 0);

    // The interrupted run waits in `pending` to resume, and no retry was charged for it.
    const store = await openStore({ dataDir: h.dataDir });
    try {
      const row = await store.db
        .selectFrom('runs')
        .select(['state', 'state_reason', 'usage'])
        .where('id', '=', run.id)
        .executeTakeFirstOrThrow();
      expect(row.state).toBe('pending');
      expect(row.state_reason).toMatch(/host stopped/);
      expect((JSON.parse(row.usage) as { retries: number }).retries).toBe(0);
    } finally {
      await store.close();
    }
  });
});
