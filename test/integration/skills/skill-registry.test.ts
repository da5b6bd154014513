import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { SkillRegistryChange } from '../../../contracts/skills.ts';
import { isAppError } from '../../../main/errors.ts';
import { FIXTURES, makeKit, PLUGINS, prepareSkill, type Kit } from './skill-test-kit.ts';

let kit: Kit | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  kit?.registry.dispose();
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** list(), tools() and the notifications must describe the same set of skills after every step. */
function expectViewsAgree(k: Kit, expected: Record<string, string>): void {
  expect(Object.fromEntries(k.registry.list().map((s) => [s.skill_id, s.version]))).toEqual(
    expected,
  );
  const enabled = k.registry.list().filter((s) => s.status === 'enabled');
  const fromList = enabled.flatMap((s) => s.operations.map((o) => `${s.skill_id}__${o.id}`)).sort();
  expect(
    k.registry
      .tools()
      .map((t) => t.name)
      .sort(),
  ).toEqual(fromList);
  for (const t of k.registry.tools()) {
    const skill = enabled.find((s) => s.skill_id === t.skill_id);
    expect(t.parameters).toEqual(
      skill?.operations.find((o) => o.id === t.operation_id)?.input_schema,
    );
  }
}

describe('SkillRegistry', () => {
  test('load, unload and reload keep list, tool list and notifications in step', async () => {
    kit = makeKit();
    const changes: SkillRegistryChange[] = [];
    const sub = kit.registry.subscribe((c) => changes.push(c));

    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    expectViewsAgree(kit, { 'echo-notes': '1.0.0' });
    const pollution = await prepareSkill(path.join(FIXTURES, 'malicious', 'recursion-depth'));
    cleanups.push(pollution.cleanup);
    await kit.registry.install(pollution.dir);
    expectViewsAgree(kit, { 'echo-notes': '1.0.0', 'recursion-depth': '1.0.0' });

    kit.registry.unload('echo-notes');
    expectViewsAgree(kit, { 'recursion-depth': '1.0.0' });
    await expect(kit.registry.callTool('echo-notes__echo', { text: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });

    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    expectViewsAgree(kit, { 'echo-notes': '1.0.0', 'recursion-depth': '1.0.0' });
    expect(await kit.registry.callTool('echo-notes__echo', { text: 'back' })).toEqual({
      text: 'back',
    });

    kit.registry.disable('echo-notes');
    expectViewsAgree(kit, { 'echo-notes': '1.0.0', 'recursion-depth': '1.0.0' });
    expect(kit.registry.tools().some((t) => t.skill_id === 'echo-notes')).toBe(false);
    await expect(kit.registry.callTool('echo-notes__echo', { text: 'x' })).rejects.toMatchObject({
      code: 'SKILL_DISABLED',
    });
    kit.registry.enable('echo-notes');
    expectViewsAgree(kit, { 'echo-notes': '1.0.0', 'recursion-depth': '1.0.0' });

    expect(changes.map((c) => `${c.kind}:${c.skill_id}`)).toEqual([
      'loaded:echo-notes',
      'loaded:recursion-depth',
      'unloaded:echo-notes',
      'loaded:echo-notes',
      'disabled:echo-notes',
      'enabled:echo-notes',
    ]);
    void sub.dispose();
    kit.registry.unload('recursion-depth');
    expect(changes).toHaveLength(6);
  });

  test('a rejected install changes nothing, not even a loaded older version', async () => {
    kit = makeKit();
    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    const before = kit.registry.list();
    const broken = await prepareSkill(path.join(PLUGINS, 'echo-notes'));
    cleanups.push(broken.cleanup);
    await writeFile(path.join(broken.dir, 'index.js'), 'export async function echo() {}\n');
    const heard: SkillRegistryChange[] = [];
    kit.registry.subscribe((c) => heard.push(c));
    await expect(kit.registry.install(broken.dir)).rejects.toSatisfy((e) =>
      isAppError(e, 'SKILL_INVALID'),
    );
    expect(kit.registry.list()).toEqual(before);
    expect(heard).toEqual([]);
    expect(await kit.registry.call('echo-notes', 'echo', { text: 'old' })).toEqual({ text: 'old' });
  });

  test('a new version replaces the old atomically; the old finishes its call in flight', async () => {
    kit = makeKit({ callTimeoutMs: 5_000 });
    const v1 = await prepareSkill(path.join(PLUGINS, 'echo-notes'));
    cleanups.push(v1.cleanup);
    await writeFile(
      path.join(v1.dir, 'index.js'),
      'export async function echo(input) { for (let i = 0; i < 20; i++) await ccos.now(); const s = Date.now(); while (Date.now() - s < 150); return { text: "v1:" + input.text }; }\nexport async function remember() {}\nexport async function recall() {}\n',
    );
    await kit.registry.install(v1.dir);
    const v2 = await prepareSkill(path.join(PLUGINS, 'echo-notes'));
    cleanups.push(v2.cleanup);
    const manifestPath = path.join(v2.dir, 'skill.json');
    const { readFile } = await import('node:fs/promises');
    await writeFile(
      manifestPath,
      (await readFile(manifestPath, 'utf8')).replace('"1.0.0"', '"2.0.0"'),
    );

    const inflight = kit.registry.call('echo-notes', 'echo', { text: 'a' });
    const changes: SkillRegistryChange[] = [];
    kit.registry.subscribe((c) => changes.push(c));
    await kit.registry.install(v2.dir);
    expect(changes).toEqual([{ kind: 'replaced', skill_id: 'echo-notes', version: '2.0.0' }]);
    expectViewsAgree(kit, { 'echo-notes': '2.0.0' });
    expect(await kit.registry.call('echo-notes', 'echo', { text: 'b' })).toEqual({ text: 'b' });
    expect(await inflight).toEqual({ text: 'v1:a' });
  });

  test('input is validated against input_schema before it reaches the isolate', async () => {
    kit = makeKit();
    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    const err: unknown = await kit.registry
      .call('echo-notes', 'echo', { text: 5 })
      .catch((e: unknown) => e);
    expect(isAppError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toContain('/text');
    expect(kit.audits).toHaveLength(0);
  });

  test('bindings reach memory, log and clock, and every call is audited', async () => {
    kit = makeKit();
    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    await kit.registry.call('echo-notes', 'remember', { key: 'k', note: 'hello' });
    expect(await kit.registry.call('echo-notes', 'recall', { key: 'k' })).toBe('hello');
    expect(kit.logs).toEqual([
      { skill_id: 'echo-notes', level: 'info', message: 'stored a note under k' },
    ]);
    expect(kit.audits.map((a) => `${a.binding}:${a.outcome}`)).toEqual([
      'now:allowed',
      'memory.put:allowed',
      'log:allowed',
      'memory.get:allowed',
    ]);
  });

  test('dispose frees every isolate and refuses later work', async () => {
    kit = makeKit();
    await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
    kit.registry.dispose();
    kit.registry.dispose();
    expect(() => kit?.registry.list()).not.toThrow();
    await expect(kit.registry.call('echo-notes', 'echo', { text: 'x' })).rejects.toMatchObject({
      code: 'SKILL_UNAVAILABLE',
    });
    kit = undefined;
  });
});
