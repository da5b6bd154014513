import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startAutonomyHost, type AutonomyHost } from '../autonomy/helpers/autonomy-host.ts';
import { errorOf, startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';

/** The routes the UI added: the skill consent screen, host settings and the LLM test. */

describe('skill consent: inspect, then install exactly what was shown', () => {
  let gw: GatewayTestHost;
  let dir: string;
  let skill: string;
  beforeAll(async () => {
    gw = await startGatewayHost();
    dir = await makeTempDir('ccos-consent-');
    skill = path.join(dir, 'echo-notes');
    await cp(projectPath('plugins', 'echo-notes'), skill, { recursive: true });
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(dir);
  });

  it('inspect lists what the skill may reach and installs nothing', async () => {
    const res = await gw.request('POST', '/v1/skills/inspect', { json: { path: skill } });
    expect(res.status, res.text).toBe(200);
    const body = res.body as {
      skill: { skill_id: string; permissions: { memory_namespaces: string[] } };
      digest: string;
    };
    expect(body.skill.skill_id).toBe('echo-notes');
    expect(body.digest).toMatch(/^[0-9a-f]{64}$/);
    const list = await gw.request('GET', '/v1/skills');
    expect((list.body as { skills: unknown[] }).skills).toEqual([]);
    expect(await gw.chain('skill.loaded')).toEqual([]);
  });

  it('a skill changed after consent is refused; the consented one installs', async () => {
    const shown = await gw.request('POST', '/v1/skills/inspect', { json: { path: skill } });
    const { digest } = shown.body as { digest: string };
    const manifestFile = path.join(skill, 'skill.json');
    const original = await readFile(manifestFile, 'utf8');
    // Between the consent screen and the click, the folder gains network access.
    const widened = JSON.parse(original) as { permissions: { egress: unknown[] } };
    widened.permissions.egress = [{ origin: 'https://evil.example', methods: ['POST'] }];
    await writeFile(manifestFile, JSON.stringify(widened));
    const refused = await gw.request('POST', '/v1/skills', {
      json: { path: skill, consent_digest: digest },
    });
    expect(refused.status).toBe(409);
    expect(errorOf(refused).message).toContain('changed since it was shown');
    expect(await gw.chain('skill.loaded')).toEqual([]);

    await writeFile(manifestFile, original);
    const ok = await gw.request('POST', '/v1/skills', {
      json: { path: skill, consent_digest: digest },
    });
    expect(ok.status, ok.text).toBe(201);
  });

  it('inspect refuses a broken skill with the load error', async () => {
    const res = await gw.request('POST', '/v1/skills/inspect', {
      json: { path: path.join(dir, 'missing') },
    });
    expect(res.status).toBe(422);
  });
});

describe('host settings and the LLM connection test', () => {
  let gw: GatewayTestHost;
  let agents: AutonomyHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
    agents = await startAutonomyHost({
      transcript: { entries: [{ message: { content: 'ok' } }] },
      installEchoNotes: false,
    });
  });
  afterAll(async () => {
    await gw.stop();
    await agents.stop();
  });

  it('shows the data dir, packs and isolation, and no LLM when none is set', async () => {
    const res = await gw.request('GET', '/v1/host');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data_dir: gw.dataDir,
      llm: null,
      policy_packs: ['default', 'strict', 'local-dev'],
    });
    // The jail's own status decides: only a jailed worker is shown as safe.
    const health = (await gw.request('GET', '/v1/health')).body as { agents: { status: string } };
    expect((res.body as { isolation: { safe: boolean } }).isolation.safe).toBe(
      health.agents.status === 'jailed',
    );
    const test = await gw.request('POST', '/v1/host/llm-test');
    expect(test.status).toBe(409);
    expect(errorOf(test).message).toContain('--llm-settings');
  });

  it('tests the configured provider without touching any run', async () => {
    const info = await agents.request('GET', '/v1/host');
    expect(info.body).toMatchObject({ llm: { kind: 'replay', model: null } });
    const res = await agents.request('POST', '/v1/host/llm-test');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, code: null });
    const runs = await agents.request('GET', '/v1/runs');
    expect((runs.body as { runs: unknown[] }).runs).toEqual([]);
  });

  it('a connector token may not read the host settings', async () => {
    const { token } = await gw.connector('ci', ['runs:read']);
    const res = await gw.request('GET', '/v1/host', { token });
    expect(res.status).toBe(403);
  });
});

describe('the event stream the UI follows', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('answers at once with nothing new to send, so the page can show it is live', async () => {
    const head = await gw.started.chain.headSeq();
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/v1/events`, {
      headers: { authorization: `Bearer ${gw.adminToken}`, 'last-event-id': String(head) },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader?.read();
    // Before the fix the first bytes were the keep-alive comment, 15 s later.
    expect(first?.value).toBe(': open\n\n');
    abort.abort();
  });
});
