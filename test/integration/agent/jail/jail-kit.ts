import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import type { AgentSessionInfo, ToolCallOutcome } from '../../../../contracts/agent-channel.ts';
import type { AgentChannelHandlers } from '../../../../main/agent/channel/agent-channel-handlers.ts';
import { serveAgentChannel } from '../../../../main/agent/channel/serve-agent-channel.ts';
import { BubblewrapSpawner } from '../../../../main/agent/spawn/bubblewrap-spawner.ts';
import { ChildProcessSpawner } from '../../../../main/agent/spawn/child-process-spawner.ts';
import { detectJail, type JailDetection } from '../../../../main/agent/spawn/detect-jail.ts';
import type { JailLimits } from '../../../../main/agent/spawn/jail-args.ts';
import {
  spawnFor,
  type SpawnedWorker,
  type Spawner,
  type WorkerExit,
} from '../../../../main/agent/spawn/spawner.ts';
import { AppError } from '../../../../main/errors.ts';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/agent/', import.meta.url));
export const HOSTILE_WORKER = `${FIXTURES}hostile-worker.ts`;

/** Detected once per test file, as the host does at start-up (`CCOS_BWRAP` as for the host). */
export const detection: JailDetection = await detectJail({
  bwrap: process.env.CCOS_BWRAP ?? 'bwrap',
});

/**
 * `describe` for tests that need the jail. Where bubblewrap cannot run they are skipped
 * with the reason in their name — except in CI (`CI=true`), where `.ci/run` installs
 * bubblewrap and a missing jail must fail loudly, never pass by skipping.
 */
export function describeWithJail(
  name: string,
  body: (jail: Extract<JailDetection, { ok: true }>) => void,
): void {
  if (detection.ok) {
    describe(name, () => {
      body(detection);
    });
    return;
  }
  const why = `${detection.reason}; ${detection.fix}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs bubblewrap, which CI installs (.ci/run)', () => {
        throw new Error(`the agent jail does not work on this CI machine: ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} [skipped: the agent jail cannot run here: ${why}]`, () => {
    it('needs bubblewrap', () => undefined);
  });
}

/** The three configurations of the escape suite's table (docs/agent-jail.md). */
export type JailConfig = 'permission_model' | 'bwrap' | 'both';
export const JAIL_CONFIGS: readonly JailConfig[] = ['permission_model', 'bwrap', 'both'];

/** A spawner for `config`, running `entry`. */
export function spawnerFor(
  config: JailConfig,
  jail: Extract<JailDetection, { ok: true }>,
  entry: string,
  limits: Partial<JailLimits> = {},
): Spawner {
  if (config === 'permission_model') return new ChildProcessSpawner({ entry });
  return new BubblewrapSpawner({
    tools: jail.tools,
    entry,
    permissionModel: config === 'both',
    limits,
  });
}

const SESSION: AgentSessionInfo = {
  run_id: 'run-escape',
  goal: 'Escape.',
  goals: [{ ordinal: 0, text: 'Escape.', predicate: null, state: 'open' }],
  checkpoint: null,
  segment: { index: 0, max_steps: 10, max_ms: 600_000 },
  remaining: { steps: 10, tokens: 1000 },
};

/** What the hostile worker reported over the channel. */
export type EscapeReport = { attempt: string; reached: boolean; detail: string };

export type HostileResult = {
  exit: WorkerExit;
  /** The worker's reports over the channel (one when the attempt let it live). */
  reports: EscapeReport[];
  /** Session-info calls answered: 2 when the channel still worked after the attempt. */
  sessionCalls: number;
  stderr: string;
};

/**
 * Starts the hostile worker through `spawner` for one attempt and serves its channel the
 * way the supervisor does, until it exits.
 */
export async function runHostile(
  spawner: Spawner,
  attempt: string,
  params: Record<string, unknown>,
  cleanups: (() => Promise<void>)[],
): Promise<HostileResult> {
  const token = `escape-token-${attempt}`;
  const reports: EscapeReport[] = [];
  let sessionCalls = 0;
  const refuse = (): Promise<never> =>
    Promise.reject(new AppError('INVALID_INPUT', 'not offered to the escape worker'));
  const handlers: AgentChannelHandlers = {
    sessionInfo: () => {
      sessionCalls++;
      return Promise.resolve(SESSION);
    },
    listTools: () => Promise.resolve([]),
    callTool: (name, args): Promise<ToolCallOutcome> => {
      if (name !== 'escape__report') return refuse();
      reports.push(args as EscapeReport);
      return Promise.resolve({ status: 'ok', output: { recorded: true } });
    },
    llmComplete: refuse,
    checkpoint: refuse,
    complete: refuse,
    memoryGet: refuse,
    memoryPut: refuse,
    memoryList: refuse,
  };
  const worker = spawnFor(spawner, {
    runId: `escape-${attempt}`,
    token,
    env: { ESCAPE_ATTEMPT: attempt, ESCAPE_PARAMS: JSON.stringify(params) },
  });
  cleanups.push(async () => {
    await worker.dispose();
  });
  let stderr = '';
  worker.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const channel = await serveAgentChannel({
    input: worker.stdout,
    output: worker.stdin,
    handlers,
    token,
    onProtocolError: () => {
      worker.kill('SIGKILL');
    },
  });
  cleanups.push(async () => {
    await channel.dispose();
  });
  const exit = await worker.exited;
  return { exit, reports, sessionCalls, stderr };
}

/**
 * A long-lived worker through `spawner` (for attempts on another worker), with `env` in its
 * environment (its token is not: that comes over its stdin).
 */
export function startVictim(
  spawner: Spawner,
  token: string,
  cleanups: (() => Promise<void>)[],
  env: Record<string, string> = {},
): SpawnedWorker {
  const victim = spawnFor(spawner, { runId: 'victim', token, env });
  cleanups.push(async () => {
    await victim.dispose();
  });
  return victim;
}
