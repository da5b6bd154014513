/**
 * The jail sets its own limits (issue 18): bwrap's first program is prlimit, which sets them
 * on itself and execs the worker, so the host forks once per worker (bwrap) instead of twice
 * (bwrap, then prlimit on the jail's pid). Proves the worker runs under every limit, that
 * RLIMIT_NPROC counts each jail's own tasks, that a limit which cannot be set keeps the
 * worker from running at all, and counts the host's forks.
 */
import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, expect, it, vi } from 'vitest';
import { BubblewrapSpawner } from '../../../../main/agent/spawn/bubblewrap-spawner.ts';
import { DEFAULT_JAIL_LIMITS, type JailLimits } from '../../../../main/agent/spawn/jail-args.ts';
import type { SpawnedWorker } from '../../../../main/agent/spawn/spawner.ts';
import { FIXTURES, describeWithJail } from './jail-kit.ts';

const LIMITS_REPORT = `${FIXTURES}limits-report.ts`;
/** Above the kernel's fs.nr_open (1 Mi by default): no process may set it, root or not. */
const REFUSED_OPEN_FILES = 1 << 30;

type LimitsReport = { limits: Record<string, [string, string]>; threads: number };

const workers: SpawnedWorker[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const w of workers.splice(0)) await w.dispose();
});

describeWithJail('the jail sets its own limits, and the host forks once per worker', (jail) => {
  /** A jail running the limits report (no permission model: it reads /proc). */
  function spawner(
    limits: Partial<JailLimits> = {},
    onJailFailure?: (runId: string | undefined, message: string) => void,
  ): BubblewrapSpawner {
    return new BubblewrapSpawner({
      tools: jail.tools,
      entry: LIMITS_REPORT,
      permissionModel: false,
      limits,
      ...(onJailFailure === undefined ? {} : { onJailFailure }),
    });
  }

  function start(from: BubblewrapSpawner): SpawnedWorker {
    const worker = from.start();
    workers.push(worker);
    return worker;
  }

  /** The worker's report: its first line on stdout. */
  async function reportOf(worker: SpawnedWorker): Promise<LimitsReport> {
    const lines = createInterface({ input: worker.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    return JSON.parse(line) as LimitsReport;
  }

  it('the worker runs under every limit, set inside the jail, the CPU hard limit a second above the soft one', async () => {
    const worker = start(spawner());
    const { limits } = await reportOf(worker);
    const cpu = String(DEFAULT_JAIL_LIMITS.cpuSeconds);
    expect(limits['Max cpu time']).toEqual([cpu, String(DEFAULT_JAIL_LIMITS.cpuSeconds + 1)]);
    const data = String(DEFAULT_JAIL_LIMITS.dataBytes);
    expect(limits['Max data size']).toEqual([data, data]);
    const files = String(DEFAULT_JAIL_LIMITS.openFiles);
    expect(limits['Max open files']).toEqual([files, files]);
    const tasks = String(DEFAULT_JAIL_LIMITS.tasks);
    expect(limits['Max processes']).toEqual([tasks, tasks]);
    expect(limits['Max core file size']).toEqual(['0', '0']);
    worker.stdin.end();
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  it("RLIMIT_NPROC counts each jail's own tasks: jails running together hold more tasks than one may", async () => {
    // Set on bwrap before its user namespace, the limit would cap the tasks of the user across
    // every jail together; set inside, each jail counts only its own.
    const tasks = 12;
    const from = spawner({ tasks });
    const started = [start(from), start(from), start(from), start(from)];
    // Each waits on its stdin, so all four are alive while the others report.
    const reports = await Promise.all(started.map(reportOf));
    const total = reports.reduce((sum, r) => sum + r.threads, 0);
    expect(total).toBeGreaterThan(tasks);
    for (const r of reports)
      expect(r.limits['Max processes']).toEqual([String(tasks), String(tasks)]);
    for (const w of started) w.stdin.end();
    for (const w of started) expect(await w.exited).toEqual({ code: 0, signal: null });
  });

  it('and inside one jail it holds: a jail allowed fewer tasks than Node starts cannot run Node', async () => {
    const probe = await spawner({ tasks: 2 }).probe(['-e', 'process.stdout.write("ran")']);
    expect(probe.stdout).toBe('');
    expect(probe.exit).not.toEqual({ code: 0, signal: null });
  });

  it("a limit the kernel refuses: prlimit exits without exec'ing, the worker never runs, the host says it could not set the jail's limits", async () => {
    const failures: { runId: string | undefined; message: string }[] = [];
    let stdout = '';
    const failed = new Promise<void>((resolve) => {
      const from = spawner({ openFiles: REFUSED_OPEN_FILES }, (runId, message) => {
        failures.push({ runId, message });
        resolve();
      });
      const worker = start(from);
      worker.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      worker.stderr.resume();
      worker.handOff({ run_id: 'run-unlimited', token: 'never-read' });
    });
    await failed;
    const [worker] = workers;
    expect(await worker?.exited).toEqual({ code: 1, signal: null });
    // The report is the fixture's first act: nothing on stdout means it never ran.
    expect(stdout).toBe('');
    expect(failures).toEqual([
      {
        runId: 'run-unlimited',
        message: expect.stringMatching(
          /^could not set the jail's limits: failed to set the NOFILE resource limit/,
        ) as unknown,
      },
    ]);
    const probe = await spawner({ openFiles: REFUSED_OPEN_FILES }).probe(['--version']);
    expect(probe.stdout).toBe('');
    expect(probe.stderr).toMatch(/^could not set the jail's limits: failed to set the NOFILE/);
  });

  it('the host forks exactly once per jailed worker and once per probe', async () => {
    // Every child process Node creates — spawn, execFile, exec, fork — goes through this
    // method, which Node's typings leave out (it is internal, but stable since Node 0.x).
    const proto = ChildProcess.prototype as unknown as {
      spawn: (options: { file: string }) => unknown;
    };
    const forks = vi.spyOn(proto, 'spawn');
    const from = spawner();
    const started = [start(from), start(from), start(from)];
    // Each has run (it reported), so everything the host does to finish a jail is done.
    await Promise.all(started.map(reportOf));
    for (const w of started) w.stdin.end();
    for (const w of started) await w.exited;
    expect(forks).toHaveBeenCalledTimes(started.length);
    const probe = await from.probe(['--version']);
    expect(probe.stdout).toMatch(/^v\d+\./);
    expect(forks).toHaveBeenCalledTimes(started.length + 1);
    for (const [options] of forks.mock.calls) expect(options.file).toBe(jail.tools.bwrap);
  });
});
