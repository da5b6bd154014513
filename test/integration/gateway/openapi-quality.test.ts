import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, API_TAGS } from '../../../contracts/api.ts';
import { OPENAPI_PATH } from '../../../main/gateway/server/create-gateway-app.ts';
import { projectPath } from '../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { rawGet } from './helpers/raw-get.ts';

const run = promisify(execFile);

type Operation = {
  operationId?: string;
  tags?: string[];
  description?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }
  >;
};
type Doc = {
  info: { license?: unknown; contact?: unknown };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; headers: Record<string, unknown> };
};

/**
 * Issue 19: the API description is good enough to generate a client from — checked by our
 * own rules and by two linters nobody here wrote, with their default rule sets.
 */
describe('the OpenAPI document is good enough to generate a client from', () => {
  let gw: GatewayTestHost;
  let doc: Doc;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    gw = await startGatewayHost();
    const res = await gw.request('GET', OPENAPI_PATH, { token: null });
    doc = res.body as Doc;
    dir = await makeTempDir('ccos-openapi-');
    file = path.join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc));
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(dir);
  });

  const operations = (): [string, Operation][] =>
    Object.entries(API).map(([name, route]) => [
      name,
      doc.paths[route.path]?.[route.method] as Operation,
    ]);

  it('gives every operation its route name as operationId, a described tag and a description', () => {
    const tags = new Set(doc.tags.map((t) => t.name));
    expect(tags).toEqual(new Set(Object.keys(API_TAGS)));
    for (const [name, op] of operations()) {
      expect(op.operationId, name).toBe(name);
      expect(op.tags?.length, name).toBe(1);
      expect(tags.has(op.tags?.[0] ?? ''), `${name}: tag ${op.tags?.[0] ?? ''}`).toBe(true);
      expect((op.description ?? '').length, name).toBeGreaterThan(20);
    }
  });

  it('names the shared schemas in components and refers to them', () => {
    for (const id of [
      'Error',
      'Run',
      'RunDetail',
      'Goal',
      'Step',
      'Approval',
      'Session',
      'ChainEntry',
      'ChainVerifyResult',
      'Skill',
      'ToolDefinition',
      'TokenInfo',
    ])
      expect(doc.components.schemas[id], id).toBeDefined();
    const created =
      doc.paths[API.createRun.path]?.post?.responses['201']?.content?.['application/json'];
    expect(created?.schema).toEqual({ $ref: '#/components/schemas/Run' });
    const denied = doc.paths[API.getRun.path]?.get?.responses['403']?.content?.['application/json'];
    expect(denied?.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('says /v1/health needs no token and every response carries x-correlation-id', async () => {
    const health = doc.paths[API.health.path]?.get;
    expect(health?.security).toEqual([]);
    expect(doc.components.headers.CorrelationId).toBeDefined();
    for (const [name, op] of operations())
      for (const [status, response] of Object.entries(op.responses))
        expect(response.headers?.['x-correlation-id'], `${name} ${status}`).toBeDefined();
    const res = await gw.request('GET', API.health.path, { token: null });
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has examples on the main request bodies and an info block with license and contact', () => {
    for (const name of [
      'createRun',
      'decideApproval',
      'installSkill',
      'createToken',
      'postRunEvent',
    ] as const) {
      const route = API[name];
      const body = doc.paths[route.path]?.[route.method]?.requestBody;
      expect(body?.content['application/json']?.example, name).toBeDefined();
    }
    expect(doc.info.license).toBeDefined();
    expect(doc.info.contact).toBeDefined();
  });

  it('passes `redocly lint` (recommended rules) with no error and no warning', async () => {
    const { stdout } = await run(
      projectPath('node_modules', '.bin', 'redocly'),
      ['lint', file, '--format=json'],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('passes `spectral lint` (spectral:oas) with no error and no warning', async () => {
    const { stdout } = await run(
      projectPath('node_modules', '.bin', 'spectral'),
      ['lint', file, '--ruleset', projectPath('.spectral.yaml'), '--format', 'json', '--quiet'],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    ).catch((e: unknown) => ({ stdout: (e as { stdout?: string }).stdout ?? '[]' }));
    const problems = JSON.parse(stdout === '' ? '[]' : stdout) as {
      code: string;
      message: string;
      path: string[];
    }[];
    expect(problems.map((p) => `${p.code}: ${p.message} at ${p.path.join('.')}`)).toEqual([]);
  });
});

describe('requests from another host or origin', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('refuses a foreign Host header (DNS rebinding), even on the public health route', async () => {
    const port = new URL(gw.url).port;
    for (const host of [`evil.example:${port}`, `127.0.0.1:1`, 'localhost']) {
      const res = await rawGet(gw.url, '/v1/health', { host });
      expect(res.status, host).toBe(403);
    }
    expect((await rawGet(gw.url, '/v1/health', { host: `localhost:${port}` })).status).toBe(200);
    const audit = await gw.started.chain.query({ event_type: 'auth.denied' });
    expect(audit.entries.some((e) => e.data.reason === 'foreign_host')).toBe(true);
  });

  it('refuses a request a page of another origin sends, token or not', async () => {
    const res = await rawGet(gw.url, '/v1/runs', {
      origin: 'http://127.0.0.1:1',
      authorization: `Bearer ${gw.adminToken}`,
    });
    expect(res.status).toBe(403);
    const same = await rawGet(gw.url, '/v1/runs', {
      origin: gw.url,
      authorization: `Bearer ${gw.adminToken}`,
    });
    expect(same.status).toBe(200);
  });
});
