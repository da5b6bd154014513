import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedToken } from '../../../contracts/tokens.ts';
import type { MemoryItem } from '../../../contracts/memory.ts';
import type { Run } from '../../../contracts/runs.ts';
import {
  hostCli,
  pack,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { startScriptedLlm, type ScriptedLlm, type ScriptedTurn } from './helpers/scripted-llm.ts';

const CANARY = `canary${randomBytes(16).toString('hex')}`;
const CANARY_B64 = Buffer.from(`x${CANARY}`).toString('base64');
const FACT = `fact-${randomBytes(8).toString('hex')}`;
const GOVERNED = pack('governed', { segment_max_steps: 50 });

const put = (key: string, value: unknown, extra: Record<string, unknown> = {}): ScriptedTurn => ({
  tool: 'ccos__memory_put',
  args: { key, value, ...extra },
});

/** The agent's writes and reads, the refusals on the chain, and the person's view through API and CLI. */
describe('governed memory: refusals on the chain, labels to the agent, the person’s API and CLI', () => {
  let llm: ScriptedLlm;
  let h: AutonomyHost;
  let run: Run;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    h = await startAutonomyHost({
      transcript: { entries: [] },
      packs: [GOVERNED],
      installEchoNotes: false,
      llm: {
        kind: 'openai_compatible',
        base_url: `${llm.server.url}/v1`,
        model: 'fake-model',
        api_key_secret: 'LLM_API_KEY',
      },
    });
    await h.started.secrets.set('LLM_API_KEY', 'sk-test-governed-0123456789abcdef', {
      actor: 'test',
    });
    await h.started.secrets.set('CANARY_TOKEN', CANARY, { actor: 'test' });
    llm.script([
      put('token', CANARY, { namespace: 'session' }),
      put('encoded', { note: `keep ${CANARY_B64}` }),
      put('profile_email', 'a@example.com', { namespace: 'profile' }),
      put('fact', FACT, { namespace: 'session' }),
      { tool: 'ccos__memory_get', args: { key: 'fact', namespace: 'session' } },
      put('note', 'for the person', { audience: 'ui_only' }),
      { tool: 'ccos__memory_get', args: { key: 'note' } },
      put('g', 'about this goal', { namespace: 'goal' }),
      { tool: 'ccos__memory_get', args: { key: 'g', namespace: 'goal' } },
      { tool: 'ccos__memory_get', args: { key: 'g' } },
      { final: 'Done.' },
    ]);
    run = await h.createRun({ goal: 'Remember a fact.', policy_pack: GOVERNED.id });
    const settled = await h.settle(run.id);
    expect(settled.state, settled.state_reason ?? '').toBe('done');
  }, 2 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    await h.stop();
    await llm.server.close();
  });

  /** The outcome the agent got for its n-th tool call (1-based), as the next request carried it. */
  const toolOutcome = (n: number): unknown => {
    const body = llm.server.requests[n]?.body as { messages: { role: string; content: string }[] };
    const last = body.messages.at(-1);
    expect(last?.role).toBe('tool');
    // A result the host holds no trusted record of reaches the model quoted as data.
    const content = last?.content ?? 'null';
    const quoted = /^<untrusted-data source="[^"]*">\n([\s\S]*)\n<\/untrusted-data>$/.exec(content);
    return JSON.parse(quoted?.[1] ?? content);
  };

  it('refuses a canary pasted as a value, plain or encoded, with the constitution rule, and never stores it', async () => {
    expect(toolOutcome(1)).toMatchObject({ status: 'error', code: 'MEMORY_DENIED' });
    expect(toolOutcome(2)).toMatchObject({ status: 'error', code: 'MEMORY_DENIED' });
    const decisions = await h.runChain(run.id, 'policy.decision');
    const secretRefusals = decisions.filter(
      (d) => d.rule_id === 'constitution.no_secret_in_memory',
    );
    expect(secretRefusals).toHaveLength(2);
    expect(JSON.stringify(decisions)).not.toContain(CANARY);
    // The SQLite files themselves, WAL and shared memory included.
    const dir = path.dirname(h.started.store.file);
    const base = path.basename(h.started.store.file);
    for (const name of (await readdir(dir)).filter((n) => n.startsWith(base))) {
      const bytes = await readFile(path.join(dir, name));
      expect(bytes.includes(Buffer.from(CANARY)), name).toBe(false);
      expect(bytes.includes(Buffer.from(CANARY_B64)), name).toBe(false);
    }
  });

  it('refuses an undeclared namespace with memory.namespace', async () => {
    expect(toolOutcome(3)).toMatchObject({ status: 'error', code: 'MEMORY_DENIED' });
    const refused = (await h.runChain(run.id, 'policy.decision')).filter(
      (d) => d.rule_id === 'memory.namespace',
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]?.data).toMatchObject({ decision: 'refused', namespace: 'profile' });
  });

  it('hands the agent the item with its label and taint, and records the write without its value', async () => {
    // The write was asked from a window of the goal and the host's own refusals: public and
    // trusted, so the item is, and its read reaches the model as it is (recorded, not unknown).
    expect(toolOutcome(5)).toEqual({
      status: 'ok',
      output: { found: true, value: FACT, label: [], taint: 'trusted' },
    });
    const sent = llm.server.requests[5]?.body as { messages: { role: string; content: string }[] };
    expect(sent.messages.at(-1)?.content.startsWith('<untrusted-data')).toBe(false);
    // A ui_only item is for the person: the agent that wrote it reads it as absent.
    expect(toolOutcome(7)).toEqual({ status: 'ok', output: { found: false } });
    const writes = await h.runChain(run.id, 'memory.write');
    expect(writes.map((w) => w.data.key)).toEqual(['fact', 'note', 'g']);
    expect(JSON.stringify(writes)).not.toContain(FACT);
  });

  it('keeps a goal namespace apart from the run namespace', async () => {
    expect(toolOutcome(9)).toMatchObject({
      status: 'ok',
      output: { found: true, value: 'about this goal' },
    });
    expect(toolOutcome(10)).toEqual({ status: 'ok', output: { found: false } });
    const items = await h.request('GET', `/v1/memory?run_id=${run.id}`);
    const g = (items.body as { items: MemoryItem[] }).items.find((i) => i.key === 'g');
    expect(g).toMatchObject({
      namespace: `goal:${run.id}:0`,
      audience: 'run',
      audience_id: run.id,
    });
  });

  it(
    'shows the person the items with their governance, admin only, and audits delete and purge (CLI)',
    async () => {
      const listed = await h.request('GET', `/v1/memory?session_id=${run.session_id}`);
      expect(listed.status).toBe(200);
      const items = (listed.body as { items: MemoryItem[] }).items;
      const fact = items.find((i) => i.key === 'fact');
      expect(fact).toMatchObject({
        namespace: `session:${run.session_id}`,
        value: FACT,
        value_withheld: false,
        label: [],
        taint: 'trusted',
        source: { kind: 'agent', id: run.id, version: null },
        audience: 'session',
        audience_id: run.session_id,
        run_id: run.id,
      });
      const shown = await h.request('GET', `/v1/memory/${fact?.id ?? ''}`);
      expect(shown.body).toMatchObject({ id: fact?.id, value: FACT });
      expect((await h.request('GET', '/v1/memory/mem_nothing')).status).toBe(404);

      // A connector's token is refused: memory is the person's to browse.
      const token = await h.request('POST', '/v1/tokens', {
        kind: 'connector',
        connector_id: 'bot',
        label: 'bot',
        scopes: ['runs:read'],
      });
      const connector = (token.body as CreatedToken).token;
      const asConnector = await fetch(`${h.started.gateway.url}/v1/memory`, {
        headers: { authorization: `Bearer ${connector}` },
      });
      expect(asConnector.status).toBe(403);

      const ccos = hostCli(h);
      const help = await ccos('memory', '--help');
      for (const verb of ['list', 'show', 'delete', 'purge']) expect(help.stdout).toContain(verb);
      const cliList = await ccos('--json', 'memory', 'list', '--session', run.session_id);
      expect(cliList.code, cliList.stderr).toBe(0);
      const note = (JSON.parse(cliList.stdout) as { items: MemoryItem[] }).items.find(
        (i) => i.key === 'note',
      );
      expect(note).toMatchObject({ audience: 'ui_only', value: 'for the person' });
      const human = await ccos('memory', 'show', fact?.id ?? '');
      expect(human.stdout).toContain('audience  session');
      expect((await ccos('memory', 'delete', note?.id ?? '')).code).toBe(0);
      const noScope = await ccos('memory', 'purge');
      expect(noScope.code).not.toBe(0);
      const purged = await ccos('--json', 'memory', 'purge', '--session', run.session_id);
      expect(JSON.parse(purged.stdout)).toEqual({ purged: 2 });
      const after = await h.request('GET', `/v1/memory?session_id=${run.session_id}`);
      expect((after.body as { items: MemoryItem[] }).items).toEqual([]);

      const all = await h.started.chain.query({ after_seq: 0, limit: 1000 });
      const deleted = all.entries.filter((e) => e.event_type === 'memory.deleted');
      expect(deleted).toMatchObject([{ actor: 'admin', data: { item_id: note?.id } }]);
      const purges = all.entries.filter((e) => e.event_type === 'memory.purged');
      expect(purges).toMatchObject([
        { actor: 'admin', data: { scope: { session_id: run.session_id }, purged: 2 } },
      ]);
    },
    RUN_TIMEOUT_MS,
  );
});
