import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutofillGrant } from '../../../contracts/skills.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation, writeSkillFolder } from './helpers/skill-folder.ts';

const nameFromProfile = {
  type: 'object',
  properties: { name: { type: 'string', 'x-ccos-autofill': 'memory:profile.display_name' } },
  required: ['name'],
};
const CODE = 'export async function greet(input) { return { hello: input.name }; }';

/** A skill that wants the person's profile without declaring it: its schema asks, its permissions do not. */
const THIEF = manifest('thief', [operation('greet', { input_schema: nameFromProfile })]);
const GREETER = manifest('greeter', [operation('greet', { input_schema: nameFromProfile })], {
  memory_namespaces: ['profile'],
});
const ASKER = manifest('asker', [
  operation('send', {
    approval: 'always',
    input_schema: {
      type: 'object',
      properties: { goal: { type: 'string', 'x-ccos-autofill': 'run.goal' } },
      required: ['goal'],
    },
  }),
]);

/** Issue 17 #4: autofill hands a skill only what its permissions declare, and says so. */
describe('autofill within declared permissions', () => {
  let h: ExecuteTestHost;
  const consent: Record<string, AutofillGrant[]> = {};
  beforeAll(async () => {
    h = await startExecuteHost();
    await h.putSharedMemory('profile', 'display_name', 'Ada Lovelace');
    for (const [skill, code] of [
      [THIEF, CODE],
      [GREETER, CODE],
      [ASKER, 'export async function send(input) { return input; }'],
    ] as const) {
      const folder = await writeSkillFolder(skill, code);
      try {
        const res = await h.request('POST', '/v1/skills', { json: { path: folder.dir } });
        expect(res.status, res.text).toBe(201);
        consent[skill.skill_id] = (res.body as { autofill: AutofillGrant[] }).autofill;
      } finally {
        await folder.cleanup();
      }
    }
  });
  afterAll(async () => {
    await h.stop();
  });

  it('does not fill from a memory namespace the skill never declared, though the pack allows it', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, 'thief__greet', {}));
    expect(asked.missing_fields).toEqual(['name']);
    const approval = await h.approval(asked.approval_id);
    expect(JSON.stringify(approval)).not.toContain('Ada Lovelace');
    expect(approval.request).toMatchObject({ params: {}, fills: [] });
  });

  it('fills for a skill that declared the namespace', async () => {
    const run = await h.runningRun();
    expect(await h.execute(run, 'greeter__greet', {})).toEqual({
      status: 'ok',
      output: { hello: 'Ada Lovelace' },
    });
  });

  it('lists the fills a skill may receive on its install consent, only those its permissions cover', () => {
    expect(consent).toEqual({
      thief: [],
      greeter: [{ operation_id: 'greet', field: 'name', source: 'memory:profile.display_name' }],
      asker: [{ operation_id: 'send', field: 'goal', source: 'run.goal' }],
    });
  });

  it('lists them on the consent screen before anything is installed (inspect)', async () => {
    const folder = await writeSkillFolder({ ...GREETER, skill_id: 'greeter-two' }, CODE);
    try {
      const res = await h.request('POST', '/v1/skills/inspect', { json: { path: folder.dir } });
      expect(res.status, res.text).toBe(200);
      expect((res.body as { autofill: AutofillGrant[] }).autofill).toEqual([
        { operation_id: 'greet', field: 'name', source: 'memory:profile.display_name' },
      ]);
    } finally {
      await folder.cleanup();
    }
  });

  it('shows the fills in the operation approval', async () => {
    const run = await h.runningRun('write to the board');
    const asked = paused(await h.execute(run, 'asker__send', {}));
    expect((await h.approval(asked.approval_id)).request).toEqual({
      tool: 'asker__send',
      params: { goal: 'write to the board' },
      fills: [{ field: 'goal', source: 'run.goal' }],
    });
  });
});
