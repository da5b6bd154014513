import { afterEach, describe, expect, test } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import type {
  SandboxedSkill,
  SandboxLimits,
  SkillBindingHandler,
} from '../../../main/skills/sandbox/skill-sandbox.ts';

/**
 * Issue 17 #6: skill code must not outlive the operation call that started it. The deadline
 * used to end when the operation returned and the host attributed binding calls to whatever
 * call was current, so a dangling loop spun forever and its calls counted as the next call's.
 */

type Seen = { binding: string; operation: string };

const skills: SandboxedSkill[] = [];
afterEach(() => {
  for (const s of skills.splice(0)) s.dispose();
});

async function load(
  body: string,
  operationIds: string[],
  limits: Partial<SandboxLimits> = {},
): Promise<{ skill: SandboxedSkill; seen: Seen[] }> {
  const seen: Seen[] = [];
  const handler: SkillBindingHandler = (name, _args, _signal, call) => {
    seen.push({ binding: name, operation: call.operation_id });
    return Promise.resolve(name === 'now' ? 1 : null);
  };
  const skill = await new IsolatedVmSandbox({
    limits: { memoryLimitMb: 16, callTimeoutMs: 10_000, ...limits },
  }).load(
    {
      skillId: 'lingering',
      entryLabel: 'lingering/index.js',
      manifestLabel: 'lingering/skill.json',
      code: body,
      operationIds,
    },
    handler,
  );
  skills.push(skill);
  return { skill, seen };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('skill code after its operation returned', () => {
  test('a loop left awaiting bindings is stopped with its isolate; none of its calls count as the next call', async () => {
    const { skill, seen } = await load(
      `let ticks = 0;
       export async function start() {
         (async () => { for (;;) { try { await ccos.now(); } catch {} ticks++; } })();
         return 'started';
       }
       export async function count() { await ccos.now(); await ccos.now(); return ticks; }`,
      ['start', 'count'],
    );
    expect(await skill.call('start', {})).toBe('started');
    // A fresh isolate: the loop's module state went with the old one.
    expect(await skill.call('count', {})).toBe(0);
    expect(seen.filter((s) => s.operation === 'count')).toHaveLength(2);
    expect(seen.filter((s) => s.operation === 'start').length).toBeLessThanOrEqual(1);
  });

  test('a binding called by code that runs on after the operation returned is refused', async () => {
    const { skill, seen } = await load(
      `export async function start() {
         (async () => { for (let i = 0; i < 50; i++) await null; await ccos.memory.put('notes', 'late', 1); })();
         return 'started';
       }
       export async function noop() { return 'ok'; }`,
      ['start', 'noop'],
    );
    expect(await skill.call('start', {})).toBe('started');
    expect(await skill.call('noop', {})).toBe('ok');
    expect(seen.filter((s) => s.binding === 'memory.put')).toEqual([]);
  });

  test('code left spinning after return counts against the call that started it', async () => {
    const { skill } = await load(
      `let calls = 0;
       export async function start() {
         calls++;
         (async () => { for (let i = 0; i < 20; i++) await null; for (;;) {} })();
         return calls;
       }
       export async function count() { calls++; return calls; }`,
      ['start', 'count'],
      // The host learns the operation returned from a signal the isolate posts before its left-
      // behind loop spins; on a saturated machine the isolate's thread may get to post it only
      // seconds later, and a deadline that fires first rightly reports a plain timeout. The
      // deadline is the test's whole run time, so it is a margin, not a speed assertion.
      { callTimeoutMs: 6_000 },
    );
    const f = await failure(skill.call('start', {}));
    expect(f.code).toBe('SKILL_TIMEOUT');
    expect(f.message).toMatch(/kept running after its operation returned/);
    // The next call is not blamed: it runs at once on a fresh isolate.
    expect(await skill.call('count', {})).toBe(1);
  });

  test('CPU per call is capped by the isolate CPU time, also across binding waits', async () => {
    const { skill } = await load(
      `export async function burn() {
         for (;;) { const end = Date.now() + 20; while (Date.now() < end) {} await ccos.now(); }
       }
       export async function ok() { return 'ok'; }`,
      ['burn', 'ok'],
      { callTimeoutMs: 120_000, maxCpuMs: 200 },
    );
    const f = await failure(skill.call('burn', {}));
    expect(f.code).toBe('SKILL_TIMEOUT');
    expect(f.message).toMatch(/used more than 200 ms of CPU/);
    expect(await skill.call('ok', {})).toBe('ok');
  });

  test('an error its code left unhandled is SKILL_ERROR, the skill failing, not the sandbox', async () => {
    const { skill } = await load(
      `export async function leave() {
         (async () => { await null; throw new Error('left behind'); })();
         return 'returned';
       }
       export async function ok() { return 'ok'; }`,
      ['leave', 'ok'],
    );
    const f = await failure(skill.call('leave', {}));
    expect(f.code).toBe('SKILL_ERROR');
    expect(f.message).toMatch(/left an error unhandled: left behind/);
    expect(await skill.call('ok', {})).toBe('ok');
  });

  test('no deferred callbacks: FinalizationRegistry and Atomics.waitAsync are gone', async () => {
    const { skill } = await load(
      `export async function probe() { return [typeof FinalizationRegistry, typeof Atomics.waitAsync]; }`,
      ['probe'],
    );
    expect(await skill.call('probe', {})).toEqual(['undefined', 'undefined']);
  });

  test('without Intl constructors, toLocaleString still formats', async () => {
    const { skill } = await load(
      `export async function fmt() {
         return [
           typeof Intl,
           (1234.5).toLocaleString('de-DE', { style: 'currency', currency: 'EUR' }),
           new Date(0).toLocaleDateString('en-US', { timeZone: 'UTC' }),
           'a'.localeCompare('b'),
         ];
       }`,
      ['fmt'],
    );
    expect(await skill.call('fmt', {})).toEqual([
      'undefined',
      // The host's own ICU formats the same way (with a no-break space before the €).
      (1234.5).toLocaleString('de-DE', { style: 'currency', currency: 'EUR' }),
      '1/1/1970',
      -1,
    ]);
  });
});
