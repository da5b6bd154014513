/**
 * Skill call overhead: a warm no-op operation through the full path (registry → input
 * validation → isolate → result envelope → output validation) against a direct in-process
 * async call of the same function, and the cold load time of a skill (read, validate,
 * compile schemas, new isolate, evaluate entry). Targets: warm p50 ≤ 0.3 ms, cold ≤ 50 ms.
 * Needs node's `--no-node-snapshot` (isolated-vm refuses to start isolates otherwise).
 */
import { performance } from 'node:perf_hooks';
import { IsolatedVmSandbox } from '../../main/skills/sandbox/isolated-vm-sandbox.ts';
import { SkillRegistry } from '../../main/skills/registry/skill-registry.ts';
import { mean, percentile, type BenchResult } from './bench-result.ts';
import { projectPath } from '../support/project-path.ts';

const WARMUP = 500;
const CALLS = 5_000;
const COLD_LOADS = 20;
const PLUGIN = projectPath('plugins', 'echo-notes');

function registry(): SkillRegistry {
  return new SkillRegistry({
    sandbox: new IsolatedVmSandbox(),
    policy: {
      capabilities: new Set(['compute.pure', 'memory.read', 'memory.write']),
      allowLoopbackHttp: false,
    },
    host: {
      memory: { get: () => Promise.resolve(undefined), put: () => Promise.resolve() },
      secrets: () => Promise.resolve(undefined),
      log: () => undefined,
      audit: () => undefined,
    },
  });
}

async function sample(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

export async function run(): Promise<BenchResult> {
  const reg = registry();
  await reg.install(PLUGIN);
  const input = { text: 'ping' };
  const direct = async (i: { text: string }): Promise<{ text: string }> =>
    Promise.resolve({ text: i.text });

  await sample(WARMUP, () => reg.call('echo-notes', 'echo', input));
  await sample(WARMUP, () => direct(input));
  const viaSkill = await sample(CALLS, () => reg.call('echo-notes', 'echo', input));
  const viaDirect = await sample(CALLS, () => direct(input));

  const cold: number[] = [];
  for (let i = 0; i < COLD_LOADS; i++) {
    const fresh = registry();
    const t = performance.now();
    await fresh.install(PLUGIN);
    cold.push(performance.now() - t);
    fresh.dispose();
  }
  cold.sort((a, b) => a - b);
  reg.dispose();

  const row = (metric: string, value: number, baseline?: number) => ({
    metric,
    value,
    unit: 'ms',
    ...(baseline === undefined ? {} : { baseline, ratio: value / baseline }),
  });
  return {
    suite: 'skills',
    rows: [
      row('warm call p50', percentile(viaSkill, 0.5), percentile(viaDirect, 0.5)),
      row('warm call p99', percentile(viaSkill, 0.99), percentile(viaDirect, 0.99)),
      row('warm call mean', mean(viaSkill), mean(viaDirect)),
      row('cold load p50', percentile(cold, 0.5)),
      row('cold load max', cold[cold.length - 1] ?? Number.NaN),
    ],
    notes: [
      `${CALLS} warm calls of echo-notes.echo after ${WARMUP} warm-up; baseline = direct in-process async call`,
      `${COLD_LOADS} cold installs of plugins/echo-notes (fresh registry and isolate each)`,
      'targets: warm p50 ≤ 0.3 ms, cold load ≤ 50 ms',
    ],
  };
}
