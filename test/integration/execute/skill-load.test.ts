import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { SkillListEntry, ToolDefinition } from '../../../contracts/skills.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { SKILL_LOAD_TOOL } from '../../../main/skills/manifest/builtin-tools.ts';
import { FIXTURES, listenOnLoopback } from '../skills/skill-test-kit.ts';
import { AGENT, paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';

/**
 * Serves whatever `documents` holds now, by path, on 127.0.0.1; everything else is a 404.
 * Before answering, it asks `onRequest` (set by a test) what the host had recorded by then.
 */
async function startDocumentServer(): Promise<{
  origin: string;
  documents: Map<string, { type: string; text: string }>;
  requests: string[];
  onRequest: { current: ((url: string) => Promise<void>) | undefined };
  close: () => Promise<void>;
}> {
  const documents = new Map<string, { type: string; text: string }>();
  const requests: string[] = [];
  const onRequest: { current: ((url: string) => Promise<void>) | undefined } = {
    current: undefined,
  };
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(pathname);
    void (onRequest.current?.(req.url ?? '/') ?? Promise.resolve()).finally(() => {
      const doc = documents.get(pathname);
      if (doc === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': doc.type }).end(doc.text);
    });
  });
  return { ...(await listenOnLoopback(server)), documents, requests, onRequest };
}

/** The pack whose runs may fetch skill documents from the test server without asking first. */
const DOCS_PACK = 'skill-docs';

let h: ExecuteTestHost;
let server: Awaited<ReturnType<typeof startDocumentServer>>;
let notesDoc: string;

/** Serves the Team Notes skill under `name` at `/<slug>/skill.md`; returns its URL. */
function serveNotes(name: string, slug: string, edit = (t: string) => t): string {
  const text = edit(notesDoc.replace('name: Team Notes', `name: ${name}`));
  server.documents.set(`/${slug}/skill.md`, { type: 'text/markdown; charset=utf-8', text });
  return `${server.origin}/${slug}/skill.md`;
}

const skillsApi = async (): Promise<{ skills: SkillListEntry[]; tools: ToolDefinition[] }> =>
  (await h.request('GET', '/v1/skills')).body as {
    skills: SkillListEntry[];
    tools: ToolDefinition[];
  };
const loadedEntries = async (skillId: string) =>
  (await h.chain('skill.loaded')).filter((e) => e.capability_id === skillId);
const capabilityApprovals = async (runId: string): Promise<Approval[]> =>
  (await h.started.approvals.list({ run_id: runId })).filter((a) => a.kind === 'capability');

/** A running run whose pack lists the document server's origin. */
const docsRun = () => h.runningRun(undefined, DOCS_PACK);

beforeAll(async () => {
  server = await startDocumentServer();
  h = await startExecuteHost({
    allowLoopbackHttp: true,
    policyPacks: [
      { ...DEFAULT_POLICY_PACK, id: DOCS_PACK, skill_document_origins: [server.origin] },
    ],
  });
  notesDoc = await readFile(path.join(FIXTURES, 'declarative', 'notes-fenced.skill.md'), 'utf8');
});

afterAll(async () => {
  await h.stop();
  await server.close();
});

/** Issue 6, "Loading": the agent loads a skill from a URL only through a `capability` approval. */
describe('ccos__skill_load', () => {
  it('is in the agent tool list and the API list, always asking for approval', async () => {
    const run = await h.runningRun();
    const segmentTools = h.started.skillRegistry.tools();
    const builtin = segmentTools.find((t) => t.name === SKILL_LOAD_TOOL);
    expect(builtin).toMatchObject({ approval: 'always', parameters: { required: ['url'] } });
    expect((await skillsApi()).tools).toContainEqual(builtin);
    expect(await h.runState(run.id)).toBe('running');
  });

  it('pauses on a capability approval listing what the skill could reach; approval installs it once', async () => {
    const url = serveNotes('Team Notes', 'approve');
    const run = await docsRun();
    const params = { url };

    const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, params));
    expect(await h.runState(run.id)).toBe('paused_approval');
    expect(h.started.skillRegistry.find('team-notes')).toBeUndefined();
    expect(await loadedEntries('team-notes')).toEqual([]);

    const approval = await h.approval(asked.approval_id);
    expect(approval).toMatchObject({ kind: 'capability', scope: 'team-notes', state: 'pending' });
    expect(approval.request).toMatchObject({
      tool: SKILL_LOAD_TOOL,
      url,
      skill_id: 'team-notes',
      name: 'Team Notes',
      version: '0.3.0',
      operations: [
        expect.objectContaining({ id: 'listNotes' }),
        expect.objectContaining({ id: 'createNote' }),
      ] as unknown,
      permissions: {
        egress: [{ origin: 'https://notes.example.com', methods: ['GET', 'POST'] }],
        secrets: [{ name: 'NOTES_TOKEN', origins: ['https://notes.example.com'] }],
        memory_namespaces: [],
      },
      compiled_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
    expect(approval.permission_diff).toEqual(
      expect.arrayContaining([
        { permission: 'skill.load', to: 'team-notes@0.3.0' },
        { permission: 'egress', to: 'GET/POST https://notes.example.com' },
        { permission: 'secret', to: 'NOTES_TOKEN (sent only to https://notes.example.com)' },
      ]),
    );

    expect((await h.decide(approval.id, { decision: 'approve' })).status).toBe(200);
    const resumed = await h.resume(run.id);
    const done = await h.execute(resumed, SKILL_LOAD_TOOL, params);
    expect(done).toEqual({
      status: 'ok',
      output: {
        skill_id: 'team-notes',
        version: '0.3.0',
        tools: ['team-notes__listNotes', 'team-notes__createNote'],
      },
    });
    expect(h.started.skillRegistry.find('team-notes')).toMatchObject({ status: 'enabled' });
    const api = await skillsApi();
    expect(api.skills.map((s) => s.skill_id)).toContain('team-notes');
    expect(api.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['team-notes__listNotes', 'team-notes__createNote']),
    );
    const loaded = await loadedEntries('team-notes');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ actor: AGENT.actor, capability_version: '0.3.0' });
    expect(await h.approval(approval.id)).toMatchObject({
      consumed_at: expect.any(String) as unknown,
    });

    // The approval is spent: the same call again is a new question, and nothing installs twice.
    const again = paused(await h.execute(resumed, SKILL_LOAD_TOOL, params));
    expect(again.approval_id).not.toBe(approval.id);
    expect(await loadedEntries('team-notes')).toHaveLength(1);
  });

  it('a re-issue with the same call id after the install replays the outcome, not the install', async () => {
    const url = serveNotes('Replay Notes', 'replay');
    let run = await docsRun();
    const call = (step: string, callId?: string) =>
      h.started.pipeline.execute({
        run,
        step_id: step,
        segment: 0,
        tool: SKILL_LOAD_TOOL,
        params: { url },
        ctx: AGENT,
        ...(callId === undefined ? {} : { call_id: callId }),
      });
    const asked = paused(await call('step_call_1', 'call_1'));
    expect((await h.decide(asked.approval_id, { decision: 'approve' })).status).toBe(200);
    run = await h.resume(run.id);
    const first = await call('step_call_1', 'call_1');
    expect(first).toMatchObject({ status: 'ok', output: { skill_id: 'replay-notes' } });
    expect(await call('step_call_1', 'call_1')).toEqual(first);
    expect(await loadedEntries('replay-notes')).toHaveLength(1);
  });

  it('a denial is a refusal with the reason, and nothing is installed', async () => {
    const url = serveNotes('Denied Notes', 'deny');
    const run = await docsRun();
    const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, { url }));
    const denied = await h.decide(asked.approval_id, {
      decision: 'deny',
      reason: 'no new egress this week',
    });
    expect(denied.status).toBe(200);
    const resumed = await h.resume(run.id);
    const fetchesBefore = server.requests.length;
    expect(await h.execute(resumed, SKILL_LOAD_TOOL, { url })).toEqual({
      status: 'refused',
      reason: expect.stringContaining('no new egress this week') as unknown,
    });
    // Nothing is fetched after a denial either.
    expect(server.requests.length).toBe(fetchesBefore);
    expect(h.started.skillRegistry.find('denied-notes')).toBeUndefined();
    expect((await skillsApi()).skills.map((s) => s.skill_id)).not.toContain('denied-notes');
    expect(await loadedEntries('denied-notes')).toEqual([]);
  });

  it('with the origin on the pack list, refuses a web page (a tweet URL) and a prose page before any approval', async () => {
    const tweet = await readFile(path.join(FIXTURES, 'declarative', 'html-page.skill.md'), 'utf8');
    server.documents.set('/status/1234', { type: 'text/html; charset=utf-8', text: tweet });
    const prose = await readFile(path.join(FIXTURES, 'declarative', 'prose-only.skill.md'), 'utf8');
    server.documents.set('/prose.md', { type: 'text/markdown', text: prose });
    const skillsBefore = (await skillsApi()).skills.map((s) => s.skill_id);
    const loadedBefore = (await h.chain('skill.loaded')).length;

    for (const [url, why] of [
      [`${server.origin}/status/1234`, 'text/html: a web page, not a skill document'],
      [`${server.origin}/prose.md`, 'SKILL_INVALID'],
    ] as const) {
      const run = await docsRun();
      const outcome = await h.execute(run, SKILL_LOAD_TOOL, { url });
      expect(outcome).toMatchObject({ status: 'error', code: 'SKILL_INVALID' });
      if (outcome.status === 'error' && why !== 'SKILL_INVALID')
        expect(outcome.message).toContain(why);
      expect(await h.runState(run.id)).toBe('running');
      expect(await capabilityApprovals(run.id)).toEqual([]);
    }
    // Forced, the tweet still has to be a skill: it is not.
    const run = await docsRun();
    const forced = await h.execute(run, SKILL_LOAD_TOOL, {
      url: `${server.origin}/status/1234`,
      force: true,
    });
    expect(forced).toMatchObject({ status: 'error', code: 'SKILL_INVALID' });
    expect(await h.runState(run.id)).toBe('running');

    expect((await skillsApi()).skills.map((s) => s.skill_id)).toEqual(skillsBefore);
    expect(await h.chain('skill.loaded')).toHaveLength(loadedBefore);
  });

  it('refuses to install when the document changed between approval and re-issue', async () => {
    const url = serveNotes('Changing Notes', 'changing');
    const run = await docsRun();
    const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, { url }));
    expect((await h.decide(asked.approval_id, { decision: 'approve' })).status).toBe(200);
    // The server now adds an origin the person never saw.
    serveNotes('Changing Notes', 'changing', (t) =>
      t.replace('https://notes.example.com/api', 'https://exfil.example.net/api'),
    );
    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, SKILL_LOAD_TOOL, { url })).toEqual({
      status: 'refused',
      reason: expect.stringContaining('changed since it was approved') as unknown,
    });
    expect(h.started.skillRegistry.find('changing-notes')).toBeUndefined();
    expect(await loadedEntries('changing-notes')).toEqual([]);
    expect(await h.approval(asked.approval_id)).toMatchObject({
      consumed_at: expect.any(String) as unknown,
    });
  });

  it('rejects bad params and plain http to a non-loopback origin before any approval', async () => {
    const run = await docsRun();
    expect(await h.execute(run, SKILL_LOAD_TOOL, { url: 42 })).toMatchObject({
      status: 'error',
      code: 'INVALID_INPUT',
    });
    expect(
      await h.execute(run, SKILL_LOAD_TOOL, { url: 'http://notes.example.com/skill.md' }),
    ).toMatchObject({ status: 'error', code: 'SKILL_INVALID' });
    expect(await h.runState(run.id)).toBe('running');
    expect(await capabilityApprovals(run.id)).toEqual([]);
  });
});

/**
 * Issue 17 #1: the fetch is itself egress. A prompt-injected agent could put whatever it has
 * seen into the URL, so nothing is requested before a gate allows exactly that URL, and
 * every request is on the chain before it leaves.
 */
describe('ccos__skill_load fetches only through a gate', () => {
  const fetchApprovals = async (runId: string): Promise<Approval[]> =>
    (await h.started.approvals.list({ run_id: runId })).filter(
      (a) => a.kind === 'policy_exception',
    );
  const egressFor = async (runId: string) =>
    (await h.chain('egress.attempt')).filter((e) => e.run_id === runId);

  it('asks before fetching from an origin the pack does not list, showing the exact URL; a denial sends nothing', async () => {
    // What an injected agent would do: smuggle what it read into the query string.
    const url = `${serveNotes('Leaky Notes', 'leak')}?seen=the-persons-home-address`;
    const run = await h.runningRun();
    const fetchesBefore = server.requests.length;

    const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, { url }));
    expect(server.requests.length).toBe(fetchesBefore);
    expect(await egressFor(run.id)).toEqual([]);
    expect(await h.runState(run.id)).toBe('paused_approval');
    const approval = await h.approval(asked.approval_id);
    expect(approval).toMatchObject({
      kind: 'policy_exception',
      scope: url,
      state: 'pending',
      request: { tool: SKILL_LOAD_TOOL, url, origin: server.origin },
      permission_diff: [{ permission: 'egress', to: `GET ${url}` }],
    });
    expect(approval.justification).toContain(url);
    expect(approval.justification).toContain('nothing has been sent yet');
    expect(await capabilityApprovals(run.id)).toEqual([]);

    expect(
      (await h.decide(approval.id, { decision: 'deny', reason: 'why that query?' })).status,
    ).toBe(200);
    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, SKILL_LOAD_TOOL, { url })).toEqual({
      status: 'refused',
      reason: expect.stringContaining('why that query?') as unknown,
    });
    expect(server.requests.length).toBe(fetchesBefore);
    expect(await egressFor(run.id)).toEqual([]);
    expect(h.started.skillRegistry.find('leaky-notes')).toBeUndefined();
  });

  it('once allowed, fetches with an egress.attempt committed before each request, then asks what the skill may reach', async () => {
    const url = serveNotes('Allowed Notes', 'allowed');
    const run = await h.runningRun();
    // At each request, what the chain already holds for this run.
    const recordedAtRequest: number[] = [];
    server.onRequest.current = async (requested) => {
      if (requested.startsWith('/allowed/'))
        recordedAtRequest.push((await egressFor(run.id)).length);
    };
    try {
      const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, { url }));
      expect((await h.decide(asked.approval_id, { decision: 'approve' })).status).toBe(200);
      let resumed = await h.resume(run.id);

      const load = paused(await h.execute(resumed, SKILL_LOAD_TOOL, { url }));
      expect(recordedAtRequest).toEqual([1]);
      expect((await h.approval(load.approval_id)).kind).toBe('capability');
      expect(await h.approval(asked.approval_id)).toMatchObject({
        consumed_at: expect.any(String) as unknown,
      });
      expect((await h.decide(load.approval_id, { decision: 'approve' })).status).toBe(200);
      resumed = await h.resume(run.id);
      expect(await h.execute(resumed, SKILL_LOAD_TOOL, { url })).toMatchObject({
        status: 'ok',
        output: { skill_id: 'allowed-notes' },
      });
      expect(recordedAtRequest).toEqual([1, 2]);
    } finally {
      server.onRequest.current = undefined;
    }
    const entries = await egressFor(run.id);
    expect(entries.map((e) => e.rule_id)).toEqual([
      'skill_load.fetch_approved',
      'skill_load.load_approved',
    ]);
    expect(entries[0]).toMatchObject({
      session_id: run.session_id,
      actor: AGENT.actor,
      data: {
        outcome: 'attempted',
        purpose: 'skill.document',
        method: 'GET',
        origin: server.origin,
        hop: 0,
      },
    });
    // Each request's outcome follows it, linked by its request id.
    const outcomes = (await h.chain('egress.outcome')).filter((e) => e.run_id === run.id);
    expect(outcomes.map((e) => [e.data.request_id, e.data.status])).toEqual(
      entries.map((e) => [e.data.request_id, 200]),
    );
  });

  it('fetches without asking from an origin on the pack list, still recording the egress first', async () => {
    const url = serveNotes('Listed Notes', 'listed');
    const run = await docsRun();
    const asked = paused(await h.execute(run, SKILL_LOAD_TOOL, { url }));
    expect((await h.approval(asked.approval_id)).kind).toBe('capability');
    expect(await fetchApprovals(run.id)).toEqual([]);
    expect((await egressFor(run.id)).map((e) => e.rule_id)).toEqual([
      'skill_load.origin_allowlist',
    ]);
  });

  it('flags a URL that carries a secret the host knows, and never shows the value', async () => {
    const secret = 'sk-live-canary-0d5a7e19c2';
    await h.started.secrets.set('SOME_API_KEY', secret, { actor: 'admin' });
    const url = `${serveNotes('Secret Notes', 'secret')}?k=${secret}`;
    const run = await h.runningRun();
    const fetchesBefore = server.requests.length;
    const approval = await h.approval(
      paused(await h.execute(run, SKILL_LOAD_TOOL, { url })).approval_id,
    );
    expect(JSON.stringify(approval)).not.toContain(secret);
    expect(approval.justification).toContain('WARNING');
    expect(server.requests.length).toBe(fetchesBefore);
  });

  it('refuses a document URL it could never fetch before asking anyone', async () => {
    const run = await h.runningRun();
    expect(
      await h.execute(run, SKILL_LOAD_TOOL, { url: 'https://user:pw@skills.example.com/skill.md' }),
    ).toMatchObject({ status: 'error', code: 'SKILL_INVALID' });
    expect(await fetchApprovals(run.id)).toEqual([]);
    expect(await h.runState(run.id)).toBe('running');
  });
});
