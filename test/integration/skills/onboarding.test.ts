import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Approval } from '../../../contracts/approvals.ts';
import type { SkillListEntry, SkillOnboarding } from '../../../contracts/skills.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { isAppError } from '../../../main/errors.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { DATABASE_FILE } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { FIXTURES } from './skill-test-kit.ts';
import { testHostEnv } from '../../support/test-host-env.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';

/** The canary: the API key the service returns once, which must live only in the secret store. */
const KEY = 'moltbook_sk_c4n4ry0nb0ard1ng5ecret7f3e2d1c0b9a8';

type Seen = { method: string; url: string; headers: IncomingHttpHeaders };

/** A Moltbook-like service: register returns the key once; status says pending until claimed. */
async function startMoltbook(): Promise<{
  origin: string;
  seen: Seen[];
  claim: () => void;
  registers: () => number;
  close: () => Promise<void>;
}> {
  const seen: Seen[] = [];
  let claimed = false;
  let origin = '';
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const authorized = req.headers.authorization === `Bearer ${KEY}`;
      if (req.method === 'POST' && req.url === '/api/v1/agents/register') {
        json(201, {
          agent: {
            api_key: KEY,
            claim_url: `${origin}/claim/ccos-test`,
            verification_code: 'reef-X4B2',
          },
          status: 'pending_claim',
        });
      } else if (!authorized) {
        json(401, { success: false, error: 'bad key' });
      } else if (req.url === '/api/v1/agents/status') {
        json(200, { status: claimed ? 'claimed' : 'pending_claim' });
      } else {
        json(200, { name: 'ccos-test' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    claim: () => {
      claimed = true;
    },
    registers: () => seen.filter((s) => s.url === '/api/v1/agents/register').length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const ONBOARDING = `
\`\`\`yaml
onboarding:
  - id: register
    kind: api_call
    operation: register
    params: { name: ccos-test, description: A test agent }
    store:
      - { from: /agent/api_key, to: 'secret:MOLTBOOK_API_KEY' }
      - { from: /agent/claim_url, to: 'memory:moltbook.claim_url' }
      - { from: /agent/verification_code, to: 'memory:moltbook.verification_code' }
  - id: claim
    kind: human_action
    instructions: Open {{memory.moltbook.claim_url}} and post the code {{memory.moltbook.verification_code}} on X, then paste the post's URL.
    fields:
      - { name: tweet_url, type: string, description: The URL of the verification post }
  - id: claimed
    kind: wait_for
    operation: status
    until: { '==': [{ var: body.status }, claimed] }
    every_s: 0.1
    timeout_s: 120
\`\`\`
`;

let service: Awaited<ReturnType<typeof startMoltbook>>;
let dataDir: string;
let host: Host | undefined;
let started: StartedHost;
let adminToken: string;
const logLines: string[] = [];
const responses: string[] = [];

async function boot(): Promise<void> {
  host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        log_level: 'debug',
        skills: { allow_loopback_http: true },
      },
      testHostEnv(),
    ),
    {
      policyPacks: [NO_OPERATION_APPROVALS],
      logDestination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    },
  );
  started = await host.start();
  adminToken = (await readFile(started.adminTokenFile, 'utf8')).trim();
}

/** Stop, then a new Host on the same data dir: what a restart of the app does. */
async function restart(): Promise<void> {
  await host?.stop();
  await boot();
}

async function api(
  method: string,
  urlPath: string,
  json?: unknown,
): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${started.gateway.url}${urlPath}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  responses.push(text);
  return { status: res.status, body: JSON.parse(text) as unknown, text };
}

async function onboarding(): Promise<SkillOnboarding> {
  const list = (await api('GET', '/v1/skills')).body as { skills: SkillListEntry[] };
  const skill = list.skills.find((s) => s.skill_id === 'moltbook');
  if (skill === undefined) throw new Error('moltbook is not listed');
  return skill.onboarding;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function pending(kind: Approval['kind']): Promise<Approval> {
  const list = (await api('GET', '/v1/approvals?state=pending')).body as { approvals: Approval[] };
  const found = list.approvals.find((a) => a.kind === kind);
  if (found === undefined) throw new Error(`no pending ${kind} approval`);
  return found;
}

/** How many times the service was asked for the claim status. */
function statusPolls(): number {
  return service.seen.filter((s) => s.url === '/api/v1/agents/status').length;
}

let steps = 0;
/** An agent's call through the execute pipeline, on a fresh running run. */
async function agentCall(tool: string): Promise<ToolCallOutcome> {
  // Past the operation gate: this test is about setup, not about asking before net.http.
  const run = await started.runs.create(
    { goal: 'read my profile', policy_pack: NO_OPERATION_APPROVALS.id },
    { actor: 'admin' },
  );
  const running = await started.runs.transition(run.id, 'running', {
    actor: 'agent:test',
    reason: 'segment started',
  });
  steps += 1;
  return started.pipeline.execute({
    run: running,
    step_id: `step_${steps}`,
    segment: 0,
    tool,
    params: {},
    ctx: { actor: 'agent:test' },
  });
}

beforeAll(async () => {
  service = await startMoltbook();
  dataDir = await makeTempDir('ccos-onboarding-');
  const text = (await readFile(path.join(FIXTURES, 'declarative', 'moltbook.skill.md'), 'utf8'))
    .replace('https://www.moltbook.com/api/v1', `${service.origin}/api/v1`)
    .replace(
      '  secret: MOLTBOOK_API_KEY\n---',
      '  secret: MOLTBOOK_API_KEY\nmemory_namespaces: [moltbook]\n---',
    )
    .concat(ONBOARDING);
  await writeFile(path.join(dataDir, 'moltbook.skill.md'), text);
  await boot();
});

afterAll(async () => {
  await host?.stop();
  await service.close();
  await removeTempDir(dataDir);
});

describe('onboarding a declarative skill (register → secret → human action → wait → operational)', () => {
  it('installs in NEEDS_SETUP, and its operations refuse with SKILL_NEEDS_SETUP', async () => {
    const res = await api('POST', '/v1/skills', { path: path.join(dataDir, 'moltbook.skill.md') });
    expect(res.status, res.text).toBe(201);
    await until(async () => (await onboarding()).state === 'NEEDS_SETUP', 'NEEDS_SETUP');
    expect(await agentCall('moltbook__me')).toMatchObject({
      status: 'error',
      code: 'SKILL_NEEDS_SETUP',
    });
    const direct = await started.skillRegistry.call('moltbook', 'me', {}).catch((e: unknown) => e);
    expect(isAppError(direct, 'SKILL_NEEDS_SETUP')).toBe(true);
    await restart();
    expect(await onboarding()).toMatchObject({ state: 'NEEDS_SETUP', step: 0 });
    expect(service.registers()).toBe(0);
  });

  it('registers once and asks to store the key by name, holding the value encrypted meanwhile', async () => {
    const res = await api('POST', '/v1/skills/moltbook/onboarding');
    expect(res.status, res.text).toBe(200);
    expect(service.registers()).toBe(1);
    const approval = await pending('secret_write');
    expect(approval.scope).toBe('MOLTBOOK_API_KEY');
    expect((await onboarding()).waiting_for).toContain(approval.id);
    // The key is not usable before approval: only an encrypted temporary entry exists.
    expect(await started.secrets.names()).not.toContain('MOLTBOOK_API_KEY');

    await restart();
    expect((await onboarding()).waiting_for).toContain(approval.id);
    // Starting again while the approval is pending does not call register again.
    expect((await api('POST', '/v1/skills/moltbook/onboarding')).status).toBe(200);
    expect(service.registers()).toBe(1);

    const decided = await api('POST', `/v1/approvals/${approval.id}`, { decision: 'approve' });
    expect(decided.status, decided.text).toBe(200);
    await until(async () => (await onboarding()).state === 'PENDING_HUMAN_ACTION', 'human action');
    const names = await started.secrets.names();
    expect(names).toContain('MOLTBOOK_API_KEY');
    expect(names.filter((n) => n.startsWith('PENDING_'))).toEqual([]);
    expect(await started.secrets.reveal('MOLTBOOK_API_KEY')).toBe(KEY);
  });

  it('asks a person exactly what to do and refuses an answer without the field', async () => {
    await restart();
    expect((await onboarding()).state).toBe('PENDING_HUMAN_ACTION');
    const approval = await pending('human_action');
    expect(approval.request.instructions).toBe(
      `Open ${service.origin}/claim/ccos-test and post the code reef-X4B2 on X, then paste the post's URL.`,
    );
    expect(approval.request.form).toEqual([
      expect.objectContaining({ name: 'tweet_url', type: 'string', required: true }),
    ]);
    const empty = await api('POST', `/v1/approvals/${approval.id}`, {
      decision: 'approve',
      answer: {},
    });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('tweet_url');
    const wrong = await api('POST', `/v1/approvals/${approval.id}`, {
      decision: 'approve',
      answer: { tweet_url: 42 },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('answer.tweet_url');

    const ok = await api('POST', `/v1/approvals/${approval.id}`, {
      decision: 'approve',
      answer: { tweet_url: 'https://x.com/me/status/1' },
    });
    expect(ok.status, ok.text).toBe(200);
    await until(
      async () => (await onboarding()).waiting_for?.includes('polling') === true,
      'polling',
    );
  });

  it('polls status with the stored key (by reference) until claimed, across a restart', async () => {
    await until(() => Promise.resolve(statusPolls() >= 2), 'two polls');
    const polls = service.seen.filter((s) => s.url === '/api/v1/agents/status');
    expect(polls.every((p) => p.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(await agentCall('moltbook__me')).toMatchObject({
      status: 'error',
      code: 'SKILL_NEEDS_SETUP',
    });

    await restart();
    const before = statusPolls();
    await until(() => Promise.resolve(statusPolls() > before), 'polling to resume');
    service.claim();
    const polled = await api('POST', '/v1/skills/moltbook/onboarding/poll');
    expect(polled.status, polled.text).toBe(200);
    await until(async () => (await onboarding()).state === 'OPERATIONAL', 'OPERATIONAL');
    expect((await api('GET', '/v1/skills/moltbook')).body).toMatchObject({
      onboarding: { state: 'OPERATIONAL', step: 3 },
    });
  });

  it('is operational after another restart: operations run with the key, register ran once', async () => {
    await restart();
    expect((await onboarding()).state).toBe('OPERATIONAL');
    const before = service.seen.length;
    const outcome = await agentCall('moltbook__me');
    expect(outcome).toMatchObject({ status: 'ok', output: { status: 200 } });
    expect(service.seen[before]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(service.registers()).toBe(1);
    const events = (await started.chain.query({ event_type: 'skill.onboarding', limit: 1000 }))
      .entries;
    expect(events.map((e) => e.data.event)).toContain('operational');
  });

  it('leaks the key nowhere: chain, logs, approvals, API responses, database file and WAL', async () => {
    const chain = await started.chain.query({ limit: 1000 });
    expect(JSON.stringify(chain.entries)).not.toContain(KEY);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(KEY);
    const approvals = await started.approvals.list({ limit: 1000 });
    expect(JSON.stringify(approvals)).not.toContain(KEY);
    expect(responses.join('\n')).not.toContain(KEY);
    const memory = await started.store.db.selectFrom('memory').selectAll().execute();
    expect(JSON.stringify(memory)).not.toContain(KEY);
    for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
      const bytes = await readFile(path.join(dataDir, file)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(Buffer.from(KEY)), file).toBe(false);
    }
  });
});
