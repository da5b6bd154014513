import { writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { SkillListEntry } from '../../../contracts/skills.ts';
import { startChildHost, type ChildHost } from '../autonomy/helpers/child-host.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { listenOnLoopback } from './skill-test-kit.ts';

const TIMEOUT_MS = 120_000;
const POLL_MS = 50;

/** Polls `probe` until it returns a value (a child host is in another process: no events to wait on). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS / 2;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** A service whose `/register` answers only when released; each hit is counted. */
async function startService() {
  let registers = 0;
  const held: ServerResponse[] = [];
  let hold = true;
  const hits: (() => void)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/v1/register') {
      registers += 1;
      for (const h of hits.splice(0)) h();
      if (hold) {
        held.push(res);
        return;
      }
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ account: `acct-${registers}` }));
  });
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    registers: () => registers,
    nextRegister: () => new Promise<void>((resolve) => hits.push(resolve)),
    release: () => {
      hold = false;
      for (const res of held.splice(0)) res.destroy();
    },
  };
}

/**
 * Issue 17 #9: an onboarding `api_call` is on record as started before it is sent; a host
 * killed mid-call does not send it again after a restart, it asks a person.
 */
describe('onboarding across a host crash', () => {
  const hosts: ChildHost[] = [];
  let dataDir: string | undefined;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop('SIGKILL');
    service?.release();
    await service?.close();
    if (dataDir !== undefined) await removeTempDir(dataDir);
  });

  it(
    'a register call cut by SIGKILL is not repeated on restart: a person is asked, and approving calls it again',
    async () => {
      dataDir = await makeTempDir('ccos-onboarding-crash-');
      service = await startService();
      const llmSettingsFile = path.join(dataDir, 'llm.json');
      await writeFile(path.join(dataDir, 'transcript.json'), JSON.stringify({ entries: [] }));
      await writeFile(
        llmSettingsFile,
        JSON.stringify({ kind: 'replay', path: path.join(dataDir, 'transcript.json') }),
      );
      const doc = path.join(dataDir, 'once.skill.yaml');
      await writeFile(
        doc,
        `name: Register Once
skill_id: register-once
version: 1.0.0
description: A service whose registration must happen once.
base_url: ${service.origin}/v1
memory_namespaces: [account]
operations:
  - { id: register, method: POST, path: /register, description: Register., approval: never }
  - { id: me, method: GET, path: /me, description: Who am I., approval: never }
onboarding:
  - id: register
    kind: api_call
    operation: register
    store:
      - { from: /account, to: 'memory:account.id' }
`,
      );

      const first = await startChildHost({ dataDir, llmSettingsFile });
      hosts.push(first);
      const installed = await first.request('POST', '/v1/skills', { path: doc });
      expect(installed.status, installed.text).toBe(201);
      const hit = service.nextRegister();
      // The setup request waits on the held call; its answer never comes.
      void first.request('POST', '/v1/skills/register-once/onboarding').catch(() => undefined);
      await hit;
      await first.stop('SIGKILL');
      hosts.splice(hosts.indexOf(first), 1);
      service.release();

      const second = await startChildHost({ dataDir, llmSettingsFile });
      hosts.push(second);
      const asked = await until('the unknown-outcome question', async () => {
        // Without the record, the restarted host would simply call register again.
        if (service?.registers() !== 1) throw new Error('register was sent again on restart');
        const res = await second.request('GET', '/v1/approvals?state=pending');
        return (res.body as { approvals: Approval[] }).approvals.find(
          (a) => a.kind === 'operation' && a.scope === 'register-once:register',
        );
      });
      expect(asked.request).toMatchObject({ operation: 'register', outcome: 'unknown' });
      expect(asked.justification).toContain('does not know whether the call had its effect');
      expect(service.registers()).toBe(1);

      const decided = await second.request('POST', `/v1/approvals/${asked.id}`, {
        decision: 'approve',
      });
      expect(decided.status, decided.text).toBe(200);
      const skill = await until('setup to finish', async () => {
        const res = await second.request('GET', '/v1/skills/register-once');
        const s = res.body as SkillListEntry;
        return s.onboarding.state === 'OPERATIONAL' ? s : undefined;
      });
      expect(skill.onboarding.state).toBe('OPERATIONAL');
      expect(service.registers()).toBe(2);
      await second.stop('SIGTERM');
    },
    TIMEOUT_MS,
  );
});
