import { describe, expect, test } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import type { SkillBindingHandler, SkillCode } from '../../../main/skills/sandbox/skill-sandbox.ts';

/**
 * Disposal paths: touching a disposed isolate aborted the process in a probe, so each way an
 * isolate can go away while work is pending is exercised here, followed by more work.
 */

const code = (body: string): SkillCode => ({
  skillId: 'probe',
  entryLabel: 'probe/index.js',
  manifestLabel: 'probe/skill.json',
  code: body,
  operationIds: ['op'],
});

function deferredBinding(): {
  handler: SkillBindingHandler;
  release: () => void;
  started: Promise<void>;
} {
  let release = (): void => undefined;
  let markStarted = (): void => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const gate = new Promise<void>((r) => (release = r));
  return {
    handler: async () => {
      markStarted();
      await gate;
      return 1;
    },
    release: () => {
      release();
    },
    started,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isAppError(e) ? e.code : `non-app: ${String(e)}`;
  }
}

describe('IsolatedVmSandbox disposal', () => {
  test('dispose while the skill awaits a binding, then the binding resolves into the dead isolate', async () => {
    const b = deferredBinding();
    const skill = await new IsolatedVmSandbox().load(
      code('export async function op() { return await ccos.now(); }'),
      b.handler,
    );
    const call = codeOf(skill.call('op', {}));
    await b.started;
    skill.dispose();
    b.release();
    expect(await call).toBe('SKILL_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 50));
    expect(await codeOf(skill.call('op', {}))).toBe('SKILL_UNAVAILABLE');
    skill.dispose();
    expect(skill.disposed).toBe(true);
  });

  test('a timeout during a binding wait disposes the isolate; the late binding result is dropped and the next call works', async () => {
    let slow = true;
    const handler: SkillBindingHandler = async () => {
      if (slow) await new Promise((r) => setTimeout(r, 300));
      return 7;
    };
    const skill = await new IsolatedVmSandbox({ limits: { callTimeoutMs: 100 } }).load(
      code('export async function op() { return await ccos.now(); }'),
      handler,
    );
    expect(await codeOf(skill.call('op', {}))).toBe('SKILL_TIMEOUT');
    await new Promise((r) => setTimeout(r, 400));
    slow = false;
    expect(await skill.call('op', {})).toBe(7);
    skill.dispose();
  });

  test('dispose during a synchronous infinite loop ends the call', async () => {
    const skill = await new IsolatedVmSandbox({ limits: { callTimeoutMs: 10_000 } }).load(
      code('export function op() { for (;;) {} }'),
      () => Promise.resolve(null),
    );
    const call = codeOf(skill.call('op', {}));
    await new Promise((r) => setTimeout(r, 50));
    skill.dispose();
    expect(await call).toBe('SKILL_UNAVAILABLE');
  });

  test('queued calls after a memory kill run on a recreated isolate', async () => {
    const skill = await new IsolatedVmSandbox({ limits: { memoryLimitMb: 16 } }).load(
      code(
        'let n = 0;\nexport async function op(input) { if (input.bomb) { const a = []; for (;;) a.push(new Array(1e5).fill(1)); } n += 1; return n; }',
      ),
      () => Promise.resolve(null),
    );
    expect(await skill.call('op', {})).toBe(1);
    const results = await Promise.all([
      codeOf(skill.call('op', { bomb: true })),
      skill.call('op', {}),
      skill.call('op', {}),
    ]);
    // State is fresh after the recreate: the counter restarted.
    expect(results).toEqual(['SKILL_MEMORY', 1, 2]);
    skill.dispose();
  });

  test('a binding is refused outside an operation call (e.g. from top-level code)', async () => {
    const err: unknown = await new IsolatedVmSandbox()
      .load(code('await ccos.now();\nexport async function op() {}'), () => Promise.resolve(1))
      .catch((e: unknown) => e);
    expect(isAppError(err, 'SKILL_INVALID')).toBe(true);
  });
});
