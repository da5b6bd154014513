import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentSessionInfo } from '../../../contracts/agent-channel.ts';
import type { AgentChannelHandlers } from '../../../main/agent/channel/agent-channel-handlers.ts';
import { serveAgentChannel } from '../../../main/agent/channel/serve-agent-channel.ts';
import { BubblewrapSpawner } from '../../../main/agent/spawn/bubblewrap-spawner.ts';
import { ChildProcessSpawner } from '../../../main/agent/spawn/child-process-spawner.ts';
import { spawnFor, type Spawner } from '../../../main/agent/spawn/spawner.ts';
import {
  WORKER_BUNDLE_FILE,
  WORKER_SNAPSHOT_FILE,
  type WorkerProgram,
} from '../../../main/agent/spawn/worker-files.ts';
import { describeWithJail } from './jail/jail-kit.ts';

/** Built by `npm test` (tsc -b, then scripts/bundle-worker.mjs) before vitest runs. */
const BUNDLE = fileURLToPath(
  new URL(`../../../dist/main/agent/worker/${WORKER_BUNDLE_FILE}`, import.meta.url),
);
const SNAPSHOT = fileURLToPath(
  new URL(`../../../dist/main/agent/worker/${WORKER_SNAPSHOT_FILE}`, import.meta.url),
);
const BUILT_WORKER_FILES = new URL(
  '../../../dist/main/agent/spawn/worker-files.js',
  import.meta.url,
).href;
const TOKEN = 'bundle-token-0123456789';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host side for one segment: a session, no tools, one final answer, the claim accepted. */
function oneAnswerHost() {
  const events: string[] = [];
  const info: AgentSessionInfo = {
    run_id: 'run-bundle',
    goal: 'Say done.',
    goals: [{ ordinal: 0, text: 'Say done.', predicate: null, state: 'open' }],
    checkpoint: null,
    segment: { index: 0, max_steps: 5, max_ms: 20_000 },
    remaining: { steps: 5, tokens: 10_000 },
  };
  const handlers: AgentChannelHandlers = {
    sessionInfo: () => {
      events.push('session');
      return Promise.resolve(info);
    },
    listTools: () => Promise.resolve([]),
    callTool: () => Promise.reject(new Error('no tools here')),
    llmComplete: () => {
      events.push('llm');
      return Promise.resolve({
        message: { role: 'assistant', content: 'Done.', tool_calls: [] },
        stop_reason: 'end',
        usage: { input_tokens: 3, output_tokens: 1, estimated: false },
        model: 'scripted',
      });
    },
    checkpoint: () => {
      events.push('checkpoint');
      return Promise.resolve({ checkpoint_id: 1 });
    },
    complete: () => {
      events.push('complete');
      return Promise.resolve({ accepted: true, unmet: [] });
    },
    memoryGet: () => Promise.resolve({ value: null }),
    memoryPut: () => Promise.resolve({}),
    memoryList: () => Promise.resolve({ items: [] }),
  };
  return { handlers, events };
}

/** Runs one segment of the bundled worker through `spawner`; its exit and what it asked. */
async function runBundledSegment(spawner: Spawner) {
  const host = oneAnswerHost();
  const worker = spawnFor(spawner, { runId: 'run-bundle', token: TOKEN });
  let stderr = '';
  worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const channel = await serveAgentChannel({
    input: worker.stdout,
    output: worker.stdin,
    handlers: host.handlers,
    token: TOKEN,
    onProtocolError: () => {
      worker.kill('SIGKILL');
    },
  });
  cleanups.push(async () => {
    await channel.dispose();
    await worker.dispose();
  });
  const exit = await worker.exited;
  return { exit, events: host.events, stderr };
}

describe('the bundled agent worker (one file, scripts/bundle-worker.mjs)', () => {
  it('is built, and the built host starts it instead of the module tree', async () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run node scripts/bundle-worker.mjs`).toBe(
      true,
    );
    const built = (await import(BUILT_WORKER_FILES)) as {
      defaultWorkerEntry: () => string;
      defaultWorkerProgram: () => WorkerProgram;
    };
    expect(built.defaultWorkerEntry()).toBe(BUNDLE);
    // And its start-up snapshot, built by this Node beside it, is what a worker runs.
    expect(built.defaultWorkerProgram()).toEqual({ kind: 'snapshot', path: SNAPSHOT });
  });

  it('serves a whole segment from its start-up snapshot, reading nothing but the snapshot', async () => {
    const spawner = new ChildProcessSpawner({ program: { kind: 'snapshot', path: SNAPSHOT } });
    expect(spawner.program).toEqual({ kind: 'snapshot', path: SNAPSHOT });
    const reads = spawner.nodeArgs.filter((a) => a.startsWith('--allow-fs-read='));
    expect(reads).toEqual([`--allow-fs-read=${SNAPSHOT}`]);
    expect(spawner.nodeArgs).toContain('--permission');
    const { exit, events, stderr } = await runBundledSegment(spawner);
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    // The scripted warm-up segment of the build left nothing behind: this segment asks the
    // host from the start, in order, and is the only one it serves.
    expect(events).toEqual(['session', 'llm', 'checkpoint', 'complete']);
    expect(stderr).toContain('serving run run-bundle');
  });

  it('serves a whole segment under the permission model while reading nothing but itself', async () => {
    const spawner = new ChildProcessSpawner({ entry: BUNDLE });
    const reads = spawner.nodeArgs.filter((a) => a.startsWith('--allow-fs-read='));
    expect(reads).toEqual([`--allow-fs-read=${BUNDLE}`]);
    const { exit, events, stderr } = await runBundledSegment(spawner);
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    expect(events).toEqual(['session', 'llm', 'checkpoint', 'complete']);
  });
});

describeWithJail('the bundled agent worker in the jail', (jail) => {
  it('serves a whole segment with only its bundle bound into the jail', async () => {
    const { exit, events, stderr } = await runBundledSegment(
      new BubblewrapSpawner({ tools: jail.tools, entry: BUNDLE }),
    );
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    expect(events).toEqual(['session', 'llm', 'checkpoint', 'complete']);
  });

  it('serves a whole segment from its start-up snapshot with only the snapshot bound', async () => {
    const spawner = new BubblewrapSpawner({
      tools: jail.tools,
      program: { kind: 'snapshot', path: SNAPSHOT },
    });
    const { exit, events, stderr } = await runBundledSegment(spawner);
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    expect(events).toEqual(['session', 'llm', 'checkpoint', 'complete']);
  });
});
