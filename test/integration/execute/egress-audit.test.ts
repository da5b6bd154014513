import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { listenOnLoopback } from '../skills/skill-test-kit.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';

const NS = 'audited';

const CODE = String.raw`
export async function send(input) {
  const res = await ccos.http.fetch({ url: input.url, method: 'GET', headers: {} });
  return { status: res.status };
}
export async function remember(input) {
  await ccos.memory.put('${NS}', input.key, input.value);
  return { stored: input.key };
}
`;

const SKILL = (origin: string) =>
  manifest(
    'auditee',
    [
      operation('send', {
        capabilities: ['net.http'],
        input_schema: {
          type: 'object',
          properties: { url: { type: 'string' } },
          required: ['url'],
        },
      }),
      operation('remember', {
        capabilities: ['memory.write'],
        input_schema: {
          type: 'object',
          properties: { key: { type: 'string' }, value: { type: 'string' } },
          required: ['key', 'value'],
        },
      }),
    ],
    { egress: [{ origin, methods: ['GET'] }], memory_namespaces: [NS] },
  );

type Row = { event_type: string; run_id: string | null; step_id: string; data: string };

/** Issue 17 #14: egress is on the chain before it happens; memory writes commit with their entry. */
describe('egress and memory audit are complete and come first', () => {
  let h: ExecuteTestHost;
  let origin: string;
  let closeServer: () => Promise<void>;
  /** For each request the server got: the egress entries already committed when it arrived. */
  const seenAtArrival: { url: string; entries: Row[] }[] = [];

  beforeAll(async () => {
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      // A second connection, as anyone reading the file would: only committed entries count.
      rawSql(
        h.databaseFile,
        `select event_type, run_id, step_id, data from chain
         where event_type in ('egress.attempt', 'egress.outcome') order by seq`,
      ).then(
        (rows) => {
          seenAtArrival.push({ url, entries: rows as Row[] });
          if (url.startsWith('/redirect')) res.writeHead(302, { location: '/landed' }).end();
          else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
        },
        () => res.writeHead(500).end(),
      );
    });
    const listening = await listenOnLoopback(server);
    origin = listening.origin;
    closeServer = listening.close;
    h = await startExecuteHost({ allowLoopbackHttp: true });
    await h.install(SKILL(origin), CODE);
  });
  afterAll(async () => {
    await h.stop();
    await closeServer();
  });
  afterEach(async () => {
    await rawSql(h.databaseFile, 'drop trigger if exists audit_down');
    seenAtArrival.length = 0;
  });

  const egressOf = async (run: Run, stepId: string): Promise<ChainEntry[]> =>
    (await h.chain()).filter(
      (e) =>
        e.run_id === run.id &&
        e.step_id === stepId &&
        (e.event_type === 'egress.attempt' || e.event_type === 'egress.outcome'),
    );

  it('commits egress.attempt with the full envelope before each request leaves, and its outcome after', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const outcome = await h.execute(run, 'auditee__send', { url: `${origin}/redirect?x=1` });
    expect(outcome).toEqual({ status: 'ok', output: { status: 200 } });
    const step = h.lastStepId();

    // Two requests (the redirect is followed): each found its own attempt already committed.
    expect(seenAtArrival.map((s) => s.url)).toEqual(['/redirect?x=1', '/landed']);
    for (const [i, seen] of seenAtArrival.entries()) {
      const mine = seen.entries.filter((r) => r.run_id === run.id && r.step_id === step);
      const last = mine.at(-1);
      expect(last?.event_type).toBe('egress.attempt');
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ hop: i, outcome: 'attempted' });
    }

    const entries = await egressOf(run, step);
    expect(entries.map((e) => [e.event_type, e.data.hop, e.data.outcome, e.data.status])).toEqual([
      ['egress.attempt', 0, 'attempted', undefined],
      ['egress.outcome', 0, 'answered', 302],
      ['egress.attempt', 1, 'attempted', undefined],
      ['egress.outcome', 1, 'answered', 200],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({
        session_id: run.session_id,
        run_id: run.id,
        step_id: step,
        policy_pack_version: stampedVersionOf(NO_OPERATION_APPROVALS),
        capability_id: 'auditee',
        capability_version: '1.0.0',
        actor: 'skill:auditee',
      });
      expect(e.data).toMatchObject({ purpose: 'skill.http', origin, method: 'GET' });
      // The path and query can carry data: only a digest of them is kept.
      expect(JSON.stringify(e.data)).not.toContain('redirect?x=1');
    }
    // An attempt and its outcome share the request id; each request has its own.
    expect(entries[0]?.data.request_id).toBe(entries[1]?.data.request_id);
    expect(entries[2]?.data.request_id).toBe(entries[3]?.data.request_id);
    expect(entries[0]?.data.request_id).not.toBe(entries[2]?.data.request_id);
    expect(entries[3]?.data.bytes).toBe(5);
  });

  it('sends nothing when the attempt cannot be recorded', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    // The audit log fails (as a full disk would) for egress attempts only.
    await rawSql(
      h.databaseFile,
      `create trigger audit_down before insert on chain when new.event_type = 'egress.attempt'
       begin select raise(abort, 'audit unavailable'); end`,
    );
    const outcome = await h.execute(run, 'auditee__send', { url: `${origin}/hello` });
    expect(outcome.status).toBe('error');
    expect(seenAtArrival).toEqual([]);
  });

  it('records a refused request with its rule and the envelope', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const outcome = await h.execute(run, 'auditee__send', { url: 'https://elsewhere.example/x' });
    expect(outcome).toMatchObject({ status: 'error', code: 'SKILL_EGRESS_DENIED' });
    const entries = await egressOf(run, h.lastStepId());
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      event_type: 'egress.attempt',
      rule_id: 'egress.allowlist',
      session_id: run.session_id,
      policy_pack_version: stampedVersionOf(NO_OPERATION_APPROVALS),
      data: { outcome: 'denied', origin: 'https://elsewhere.example', code: 'SKILL_EGRESS_DENIED' },
    });
  });

  it('commits a memory write with its memory.write entry, and neither without the other', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const ok = await h.execute(run, 'auditee__remember', { key: 'k1', value: 'v1' });
    expect(ok).toEqual({ status: 'ok', output: { stored: 'k1' } });
    const step = h.lastStepId();
    const writes = (await h.chain('memory.write')).filter((e) => e.run_id === run.id);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      session_id: run.session_id,
      step_id: step,
      policy_pack_version: stampedVersionOf(NO_OPERATION_APPROVALS),
      capability_id: 'auditee',
      data: { binding: 'memory.put', outcome: 'allowed', namespace: NS, key: 'k1' },
    });
    expect(
      await rawSql(h.databaseFile, 'select run_id, step_id from memory where key = ?', ['k1']),
    ).toEqual([{ run_id: run.id, step_id: step }]);

    await rawSql(
      h.databaseFile,
      `create trigger audit_down before insert on chain when new.event_type = 'memory.write'
       begin select raise(abort, 'audit unavailable'); end`,
    );
    const failed = await h.execute(run, 'auditee__remember', { key: 'k2', value: 'v2' });
    expect(failed.status).toBe('error');
    // The write rolled back with its entry: no unaudited memory.
    expect(await rawSql(h.databaseFile, 'select key from memory where key = ?', ['k2'])).toEqual(
      [],
    );
  });
});
