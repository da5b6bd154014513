import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentSessionInfo } from '../../../contracts/agent-channel.ts';
import type { AgentChannelHandlers } from '../../../main/agent/channel/agent-channel-handlers.ts';
import { serveAgentChannel } from '../../../main/agent/channel/serve-agent-channel.ts';
import { encodeHandoff } from '../../../main/agent/channel/worker-handoff.ts';
import { BubblewrapSpawner } from '../../../main/agent/spawn/bubblewrap-spawner.ts';
import { ChildProcessSpawner } from '../../../main/agent/spawn/child-process-spawner.ts';
import type { SpawnedWorker, Spawner } from '../../../main/agent/spawn/spawner.ts';
import { AppError, isAppError } from '../../../main/errors.ts';
import { WorkerPool } from '../../../main/supervisor/worker-pool.ts';
import { descendantsOf } from '../../support/process-tree.ts';
import { describeWithJail } from './jail/jail-kit.ts';

const FIXTURES = new URL('../../fixtures/agent/', import.meta.url);
const fixture = (name: string): string => fileURLToPath(new URL(name, FIXTURES));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Retirement = { pid: number; reason: string };

/** A pool over `spawner` whose retirements a test can wait for; disposed after the test. */
function poolOf(spawner: Spawner, size: number) {
  const retired: Retirement[] = [];
  const waiting: ((r: Retirement) => void)[] = [];
  const pool = new WorkerPool({
    spawner,
    size,
    logger: pino({ level: 'silent' }),
    onRetired: (pid, reason) => {
      const r = { pid, reason };
      const waiter = waiting.shift();
      if (waiter === undefined) retired.push(r);
      else waiter(r);
    },
  });
  cleanups.push(() => pool.dispose());
  pool.start();
  const nextRetirement = (): Promise<Retirement> => {
    const already = retired.shift();
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve) => waiting.push(resolve));
  };
  return { pool, nextRetirement };
}

/** A spawner that starts `entry` with `env` added to every worker's environment. */
function spawnerWith(entry: string | undefined, env: Record<string, string> = {}): Spawner {
  const real = new ChildProcessSpawner(entry === undefined ? {} : { entry });
  return {
    isolation: real.isolation,
    start: (options = {}) => real.start({ ...options, env: { ...options.env, ...env } }),
  };
}

function session(runId: string): AgentSessionInfo {
  return {
    run_id: runId,
    goal: 'wait',
    goals: [{ ordinal: 0, text: 'wait', predicate: null, state: 'open' }],
    checkpoint: null,
    segment: { index: 0, max_steps: 5, max_ms: 20_000 },
    remaining: { steps: 5, tokens: 1000 },
  };
}

/**
 * Handlers that answer the session (or, with `onSession`, tell it and never answer, keeping
 * the worker waiting) and record every call; everything else is refused.
 */
function recordingHandlers(runId: string, onSession?: () => void) {
  const calls: string[] = [];
  const refuse = (what: string) => (): Promise<never> => {
    calls.push(what);
    return Promise.reject(new AppError('INVALID_INPUT', `${what} is not offered here`));
  };
  const handlers: AgentChannelHandlers = {
    sessionInfo: () => {
      calls.push('session');
      if (onSession === undefined) return Promise.resolve(session(runId));
      onSession();
      return new Promise<never>(() => undefined);
    },
    listTools: refuse('listTools'),
    callTool: refuse('callTool'),
    llmComplete: refuse('llmComplete'),
    checkpoint: refuse('checkpoint'),
    complete: refuse('complete'),
    memoryGet: refuse('memoryGet'),
    memoryPut: refuse('memoryPut'),
    memoryList: refuse('memoryList'),
  };
  return { handlers, calls };
}

/** Serves `worker`'s channel with `token` until the test ends; returns who was refused. */
async function serve(worker: SpawnedWorker, token: string, handlers: AgentChannelHandlers) {
  const denied: string[] = [];
  let stderr = '';
  worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const channel = await serveAgentChannel({
    input: worker.stdout,
    output: worker.stdin,
    handlers,
    token,
    onProtocolError: () => {
      worker.kill('SIGKILL');
    },
    onAuthDenied: (method) => denied.push(method),
  });
  cleanups.push(async () => {
    await channel.dispose();
    await worker.dispose();
  });
  return { denied, stderr: () => stderr };
}

describe('the pool of pre-started agent workers', () => {
  it('starts its workers with no token in their environment, and the hand-off puts none there', async () => {
    const { pool } = poolOf(spawnerWith(undefined), 1);
    const [idlePid] = pool.idlePids;
    const worker = pool.take('run-env');
    expect(worker.pid).toBe(idlePid);
    expect(worker.runId).toBeUndefined();
    const token = 'pooled-token-env-0123456789';
    let asked: () => void = () => undefined;
    const sessionAsked = new Promise<void>((resolve) => (asked = resolve));
    // Once it asks for its session it holds its token, and it waits for the answer.
    const { handlers } = recordingHandlers('run-env', () => {
      asked();
    });
    await serve(worker, token, handlers);
    worker.handOff({ run_id: 'run-env', token });
    await sessionAsked;
    // /proc/<pid>/environ is the environment the process was started with: what a process of
    // the same user, or a core dump, would find.
    const environ = readFileSync(`/proc/${String(worker.pid)}/environ`, 'utf8');
    expect(environ).not.toContain(token);
    expect(environ.split('\0').filter((v) => v !== '')).toEqual(['NODE_OPTIONS=']);
    const argv = readFileSync(`/proc/${String(worker.pid)}/cmdline`, 'utf8');
    expect(argv).not.toContain(token);
  });

  it('answers nothing to an idle worker that talks before its hand-off: it is killed and replaced', async () => {
    const { pool, nextRetirement } = poolOf(spawnerWith(fixture('eager-worker.ts')), 1);
    const [eager] = pool.idlePids;
    const reason = 'wrote to its channel before it was handed a run';
    expect(await nextRetirement()).toEqual({ pid: eager, reason });
    // Each replacement is the same program and goes the same way; after three in a row the
    // pool stops starting them (segments would start their own).
    const second = await nextRetirement();
    const third = await nextRetirement();
    expect(second.reason).toBe(reason);
    expect(third.reason).toBe(reason);
    expect(new Set([eager, second.pid, third.pid]).size).toBe(3);
    expect(pool.idlePids).toEqual([]);
  });

  it('never hands a worker a second segment', async () => {
    const { pool } = poolOf(spawnerWith(fixture('hanging-worker.ts')), 2);
    const first = pool.take('run-a');
    const second = pool.take('run-b');
    expect(second.pid).not.toBe(first.pid);
    first.handOff({ run_id: 'run-a', token: 'token-a' });
    let refused: unknown;
    try {
      first.handOff({ run_id: 'run-b', token: 'token-b' });
    } catch (e) {
      refused = e;
    }
    expect(isAppError(refused, 'CONFLICT')).toBe(true);
    expect(first.runId).toBe('run-a');
    await first.dispose();

    // Written past the latch, straight into the pipe, a second hand-off is no channel message:
    // the worker's channel breaks and it never reaches the host's handlers.
    const { handlers, calls } = recordingHandlers('run-b');
    const served = await serve(second, 'token-b', handlers);
    second.handOff({ run_id: 'run-b', token: 'token-b' });
    second.stdin.write(encodeHandoff({ run_id: 'run-c', token: 'token-c' }));
    const exit = await second.exited;
    expect(exit.code).not.toBe(0);
    expect(calls).toEqual([]);
    expect(served.denied).toEqual([]);
  });

  it("refuses a token handed to one pooled worker on another's channel", async () => {
    const tokenA = 'pooled-token-a-0123456789';
    const tokenB = 'pooled-token-b-0123456789';
    // Both workers will connect with A's token, whatever they are handed.
    const { pool } = poolOf(
      spawnerWith(fixture('borrowed-token-worker.ts'), { CCOS_FIXTURE_BORROWED_TOKEN: tokenA }),
      2,
    );
    const a = pool.take('run-a');
    const b = pool.take('run-b');
    const hostA = recordingHandlers('run-a');
    const hostB = recordingHandlers('run-b');
    const servedA = await serve(a, tokenA, hostA.handlers);
    const servedB = await serve(b, tokenB, hostB.handlers);
    a.handOff({ run_id: 'run-a', token: tokenA });
    b.handOff({ run_id: 'run-b', token: tokenB });
    const [exitA, exitB] = await Promise.all([a.exited, b.exited]);
    expect(exitA.code).toBe(0);
    expect(servedA.stderr()).toContain('borrowed-token-worker: served run run-a');
    expect(hostA.calls).toEqual(['session']);
    expect(exitB.code).toBe(1);
    expect(servedB.stderr()).toContain('borrowed-token-worker: refused UNAUTHORIZED');
    expect(servedB.denied).toEqual(['initialize']);
    expect(hostB.calls).toEqual([]);
  });

  it('replaces a worker that dies while idle', async () => {
    const { pool, nextRetirement } = poolOf(spawnerWith(undefined), 1);
    const [first] = pool.idlePids;
    if (first === undefined) throw new Error('no idle worker');
    process.kill(first, 'SIGKILL');
    expect(await nextRetirement()).toEqual({
      pid: first,
      reason: 'exited while idle (SIGKILL)',
    });
    // The replacement starts on the next turn of the event loop; a loaded machine may be slow.
    await expect.poll(() => pool.idlePids.length, { timeout: 30_000 }).toBe(1);
    expect(pool.idlePids).not.toContain(first);
  });

  it('starts a worker on demand when none waits, and none at all with size 0', () => {
    const { pool } = poolOf(spawnerWith(fixture('hanging-worker.ts')), 0);
    expect(pool.idlePids).toEqual([]);
    const worker = pool.take('run-z');
    cleanups.push(() => Promise.resolve(worker.dispose()));
    expect(worker.runId).toBeUndefined();
    expect(pool.idlePids).toEqual([]);
  });
});

describeWithJail('the pool with the jail', (jail) => {
  it('pre-starts whole jails: neither bwrap nor anything inside it holds the token in its environment', async () => {
    const { pool } = poolOf(new BubblewrapSpawner({ tools: jail.tools }), 1);
    const worker = pool.take('run-jail');
    const token = 'pooled-token-jail-0123456789';
    let asked: () => void = () => undefined;
    const sessionAsked = new Promise<void>((resolve) => (asked = resolve));
    const { handlers } = recordingHandlers('run-jail', () => {
      asked();
    });
    await serve(worker, token, handlers);
    worker.handOff({ run_id: 'run-jail', token });
    await sessionAsked;
    // bwrap, the jail's init and the worker inside it.
    const jailed = [worker.pid, ...descendantsOf(worker.pid)];
    expect(jailed.length).toBeGreaterThanOrEqual(2);
    for (const pid of jailed) {
      const environ = readFileSync(`/proc/${String(pid)}/environ`, 'utf8');
      expect(environ).not.toContain(token);
      expect(readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')).not.toContain(token);
    }
  });
});
