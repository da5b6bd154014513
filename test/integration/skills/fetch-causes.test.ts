import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';
import { errorOf } from '../gateway/helpers/gateway-host.ts';
import { FIXTURES, listenOnLoopback } from './skill-test-kit.ts';

/** An origin on 127.0.0.1 that was just free and has nothing listening any more. */
async function deadOrigin(): Promise<string> {
  const listening = await listenOnLoopback(createServer());
  await listening.close();
  return listening.origin;
}

describe('a skill request that cannot connect says why', () => {
  let h: ExecuteTestHost;
  let dir: string;
  let dead: string;
  beforeAll(async () => {
    h = await startExecuteHost({ allowLoopbackHttp: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'ccos-fetch-causes-'));
    dead = await deadOrigin();
  });
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('installing from a URL nothing answers: SKILL_HTTP_FAILED naming ECONNREFUSED', async () => {
    const res = await h.request('POST', '/v1/skills', { json: { url: `${dead}/skill.md` } });
    expect(res.status).toBe(502);
    expect(errorOf(res)).toMatchObject({
      code: 'SKILL_HTTP_FAILED',
      message: expect.stringMatching(/failed \(ECONNREFUSED\)$/) as unknown,
      details: { cause: 'ECONNREFUSED' },
    });
  });

  it('a declarative operation whose service is down: the tool outcome names ECONNREFUSED', async () => {
    const text = (
      await readFile(path.join(FIXTURES, 'declarative', 'weather.skill.yaml'), 'utf8')
    ).replace('https://api.weather.example/v2', `${dead}/v2`);
    await writeFile(path.join(dir, 'skill.yaml'), text);
    const installed = await h.request('POST', '/v1/skills', {
      json: { path: path.join(dir, 'skill.yaml') },
    });
    expect(installed.status, installed.text).toBe(201);
    const put = await h.request('PUT', '/v1/secrets/WEATHER_API_KEY', {
      json: { value: 'k-1-weather-key' },
    });
    expect(put.status).toBe(200);
    const outcome = await h.execute(
      await h.runningRun(undefined, NO_OPERATION_APPROVALS.id),
      'weather__current',
      { station: 'EDDB' },
    );
    expect(outcome.status).toBe('error');
    expect(JSON.stringify(outcome)).toContain('ECONNREFUSED');
  });
});
