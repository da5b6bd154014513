import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { SkillListEntry, ToolDefinition } from '../../../contracts/skills.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { HOST_BUILTIN_TOOLS } from '../../../main/host/build-skill-registry.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { openSse } from './helpers/sse-client.ts';
import { testHostEnv } from '../../support/test-host-env.ts';

const PLUGIN = path.resolve('plugins/echo-notes');

type SkillList = { skills: SkillListEntry[]; tools: ToolDefinition[] };

/**
 * Issue 4, registry sync: one registry is the truth. After every load, unload and reload
 * the API's skill list, its tool list, the agent's tool list (the registry the channel
 * serves) and the event stream agree; installs survive a restart; a rejected skill leaves
 * no trace in any of them.
 */
describe('/v1/skills', () => {
  let gw: GatewayTestHost;
  let work: string;

  beforeAll(async () => {
    gw = await startGatewayHost();
    work = await makeTempDir('ccos-skill-src-');
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(work);
  });

  const list = async (): Promise<SkillList> =>
    (await gw.request('GET', '/v1/skills')).body as SkillList;
  const expectViewsAgree = async (expectedSkills: string[]): Promise<void> => {
    const api = await list();
    expect(api.skills.map((s) => s.skill_id)).toEqual(expectedSkills);
    const agentTools = gw.started.skillRegistry.tools().map((t) => t.name);
    expect(api.tools.map((t) => t.name)).toEqual(agentTools);
    // The host's built-in tools come first, then every enabled skill's operations.
    const expectedTools = [
      ...HOST_BUILTIN_TOOLS.map((t) => t.name),
      ...api.skills
        .filter((s) => s.status === 'enabled')
        .flatMap((s) => s.operations.map((o) => `${s.skill_id}__${o.id}`)),
    ];
    expect(agentTools.sort()).toEqual(expectedTools.sort());
    expect(api.tools.slice(0, HOST_BUILTIN_TOOLS.length)).toEqual(HOST_BUILTIN_TOOLS);
    for (const tool of api.tools.slice(HOST_BUILTIN_TOOLS.length)) {
      const op = api.skills
        .flatMap((s) => s.operations)
        .find((o) => tool.name.endsWith(`__${o.id}`));
      expect(tool.parameters).toEqual(op?.input_schema);
    }
  };

  it('keeps list, tool list and event stream in step through install, disable, unload and reinstall', async () => {
    const stream = await openSse(`${gw.url}/v1/events`, { token: gw.adminToken });
    await expectViewsAgree([]);

    const installed = await gw.request('POST', '/v1/skills', { json: { path: PLUGIN } });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({
      skill: { skill_id: 'echo-notes', permissions: { memory_namespaces: ['notes'], egress: [] } },
      replaced_version: null,
    });
    await expectViewsAgree(['echo-notes']);

    expect((await gw.request('POST', '/v1/skills/echo-notes/disable')).status).toBe(200);
    await expectViewsAgree(['echo-notes']);
    expect((await list()).tools).toEqual(HOST_BUILTIN_TOOLS);

    expect((await gw.request('POST', '/v1/skills/echo-notes/enable')).status).toBe(200);
    await expectViewsAgree(['echo-notes']);

    expect((await gw.request('DELETE', '/v1/skills/echo-notes')).status).toBe(200);
    await expectViewsAgree([]);
    expect((await gw.request('GET', '/v1/skills/echo-notes')).status).toBe(404);

    expect((await gw.request('POST', '/v1/skills', { json: { path: PLUGIN } })).status).toBe(201);
    await expectViewsAgree(['echo-notes']);

    let loads = 0;
    const events = await stream.collectUntil(
      (e) => e.event === 'skill.loaded' && ++loads === 2,
      5_000,
    );
    const kinds = events
      .filter((e) => e.event?.startsWith('skill.') === true)
      .map(
        (e) => `${e.event ?? ''}:${(JSON.parse(e.data) as StreamEvent).data.skill_id as string}`,
      );
    expect(kinds).toEqual([
      'skill.loaded:echo-notes',
      'skill.disabled:echo-notes',
      'skill.enabled:echo-notes',
      'skill.unloaded:echo-notes',
      'skill.loaded:echo-notes',
    ]);
    stream.close();
  });

  it('rejects a bad skill with 422 naming the field, and leaves no trace', async () => {
    const before = await list();
    const chainBefore = (await gw.chain()).length;
    const bad = path.join(work, 'no-id');
    await mkdir(bad, { recursive: true });
    await writeFile(
      path.join(bad, 'skill.json'),
      JSON.stringify({ name: 'Nameless', operations: [] }),
    );
    const res = await gw.request('POST', '/v1/skills', { json: { path: bad } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'SKILL_INVALID' } });
    expect(JSON.stringify(res.body)).toContain('skill_id');
    expect(await list()).toEqual(before);
    expect((await gw.chain()).length).toBe(chainBefore);
    expect(await readdir(path.join(gw.dataDir, 'skills'))).toEqual(['echo-notes']);
  });

  it('refuses a relative path and non-admin installs', async () => {
    const relative = await gw.request('POST', '/v1/skills', {
      json: { path: 'plugins/echo-notes' },
    });
    expect(relative.status).toBe(400);
    const connector = await gw.connector('ci', ['runs:create', 'runs:read']);
    const denied = await gw.request('POST', '/v1/skills', {
      token: connector.token,
      json: { path: PLUGIN },
    });
    expect(denied.status).toBe(403);
    // Reading the list is fine for a runs:read token.
    expect((await gw.request('GET', '/v1/skills', { token: connector.token })).status).toBe(200);
  });
});

describe('installed skills across a restart', () => {
  it('reload from the host’s own copy even when the source folder is gone', async () => {
    const dataDir = await makeTempDir('ccos-skill-restart-');
    const source = await makeTempDir('ccos-skill-moving-');
    await cp(PLUGIN, source, { recursive: true });
    const config = parseHostConfig(
      {
        data_dir: dataDir,
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        log_level: 'silent',
      },
      testHostEnv(),
    );
    const first = new Host(config, { logger: pino({ level: 'silent' }) });
    try {
      const started = await first.start();
      await started.skills.install(source, { actor: 'test' });
      await started.skills.setEnabled('echo-notes', false, { actor: 'test' });
    } finally {
      await first.stop();
    }
    await removeTempDir(source);

    const second = new Host(config, { logger: pino({ level: 'silent' }) });
    try {
      const started = await second.start();
      expect(started.skills.list().map((s) => [s.skill_id, s.status])).toEqual([
        ['echo-notes', 'disabled'],
      ]);
      await started.skills.setEnabled('echo-notes', true, { actor: 'test' });
      expect(
        await started.skillRegistry.call('echo-notes', 'echo', { text: 'still here' }),
      ).toEqual({
        text: 'still here',
      });
    } finally {
      await second.stop();
      await removeTempDir(dataDir);
    }
  });

  it('keeps a skill whose reload fails (disabled, failed, with the reason) until a person retries or removes it', async () => {
    const dataDir = await makeTempDir('ccos-skill-failed-');
    const config = parseHostConfig(
      {
        data_dir: dataDir,
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        log_level: 'silent',
      },
      testHostEnv(),
    );
    const withHost = async (use: (started: StartedHost) => Promise<void>): Promise<void> => {
      const host = new Host(config, { logger: pino({ level: 'silent' }) });
      try {
        await use(await host.start());
      } finally {
        await host.stop();
      }
    };
    try {
      await withHost(async (started) => {
        await started.skills.install(PLUGIN, { actor: 'test' });
      });
      // What a slow disk, a half-written file or a timeout looks like to the loader: the
      // kept copy does not load this time.
      const [version] = await readdir(path.join(dataDir, 'skills', 'echo-notes'));
      const entry = path.join(dataDir, 'skills', 'echo-notes', String(version), 'index.js');
      const good = await readFile(entry, 'utf8');
      await writeFile(entry, 'export const = broken;');

      await withHost(async (started) => {
        const [skill] = started.skills.list();
        expect(skill).toMatchObject({
          skill_id: 'echo-notes',
          status: 'failed',
          load_error: { code: 'SKILL_INVALID' },
        });
        expect(started.skillRegistry.tools().map((t) => t.name)).not.toContain('echo-notes__echo');
        const audit = await started.chain.query({ event_type: 'skill.disabled' });
        expect(audit.entries.at(-1)?.data).toMatchObject({
          skill_id: 'echo-notes',
          reason: 'load_failed',
          code: 'SKILL_INVALID',
        });
        // Still broken: the retry says why, and the skill stays failed.
        await expect(
          started.skills.setEnabled('echo-notes', true, { actor: 'test' }),
        ).rejects.toMatchObject({ code: 'SKILL_INVALID' });
        expect(started.skills.get('echo-notes').status).toBe('failed');
      });

      // A restart does not lose it either, and once the cause is gone a retry loads it.
      await writeFile(entry, good);
      await withHost(async (started) => {
        expect(started.skills.get('echo-notes').status).toBe('failed');
        const retried = await started.skills.setEnabled('echo-notes', true, { actor: 'test' });
        expect(retried.status).toBe('enabled');
        expect(retried.load_error).toBeUndefined();
        expect(await started.skillRegistry.call('echo-notes', 'echo', { text: 'back' })).toEqual({
          text: 'back',
        });
      });
      await withHost(async (started) => {
        expect(started.skills.list().map((s) => [s.skill_id, s.status])).toEqual([
          ['echo-notes', 'enabled'],
        ]);
        // Removing a failed skill works too.
        await writeFile(entry, 'export const = broken;');
      });
      await withHost(async (started) => {
        expect(started.skills.get('echo-notes').status).toBe('failed');
        await started.skills.unload('echo-notes', { actor: 'test' });
        expect(started.skills.list()).toEqual([]);
      });
      await withHost((started) => {
        expect(started.skills.list()).toEqual([]);
        return Promise.resolve();
      });
    } finally {
      await removeTempDir(dataDir);
    }
  });
});
