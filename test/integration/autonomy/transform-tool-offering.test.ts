import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { RecordedRequest, RecordingServer } from '../llm/recording-http-server.ts';
import { pack, startAutonomyHost, type AutonomyHost } from './helpers/autonomy-host.ts';
import { finalAnswer, startScriptedLlm } from './helpers/scripted-openai.ts';

/** The tools that read quarantine (or release what they made): offered only when useful. */
const TRANSFORM_TOOLS = [
  'ccos__transform_summarize',
  'ccos__transform_extract',
  'ccos__transform_redact',
  'ccos__transform_verify',
  'ccos__declassify',
];
const ALWAYS = pack('transforms-always', { transform_tools: 'always' });

/** The names of the tools one LLM request offered the model. */
function offered(request: RecordedRequest | undefined): string[] {
  const body = request?.body as { tools?: { function: { name: string } }[] } | undefined;
  return (body?.tools ?? []).map((t) => t.function.name);
}

/**
 * Issue 22: the transform tools, the verifier and declassify are in a run's tool list only
 * when its session holds quarantined content (or the pack says always): the prompt bytes at
 * the LLM stand-in show what the model was offered. Real host, real worker, real connector.
 */
describe('offering the transform tools', () => {
  let h: AutonomyHost;
  let llm: RecordingServer;

  beforeAll(async () => {
    llm = await startScriptedLlm(() => finalAnswer());
    h = await startAutonomyHost({
      transcript: { entries: [] },
      installEchoNotes: false,
      packs: [ALWAYS],
      llm: { kind: 'openai_compatible', base_url: `${llm.url}/v1`, model: 'fake-model' },
    });
  });
  afterAll(async () => {
    await h.stop();
    await llm.close();
  });

  /** Runs one run to its end and returns the tool names of its first LLM request. */
  async function toolsOfRun(start: () => Promise<string>): Promise<string[]> {
    const mark = llm.requests.length;
    const runId = await start();
    const run = await h.settle(runId);
    expect(run.state, run.state_reason ?? '').toBe('done');
    return offered(llm.requests[mark]);
  }

  it('a run whose session holds nothing quarantined is not offered them, and its prompt is smaller', async () => {
    const mark = llm.requests.length;
    const names = await toolsOfRun(async () => (await h.createRun({ goal: 'Say hello.' })).id);
    expect(names).toContain('ccos__memory_put');
    for (const t of TRANSFORM_TOOLS) expect(names).not.toContain(t);
    const bare = llm.requests[mark]?.text.length ?? 0;
    const withAll = await toolsOfRun(
      async () => (await h.createRun({ goal: 'Say hello.', policy_pack: ALWAYS.id })).id,
    );
    for (const t of TRANSFORM_TOOLS) expect(withAll).toContain(t);
    expect(bare).toBeLessThan(llm.requests.at(-1)?.text.length ?? 0);
  });

  it('a run created by a connector message is offered them', async () => {
    const put = await h.request('PUT', '/v1/connectors/local-chat/adapter', {
      adapter: 'local_chat',
      inbound_auth: { mode: 'person' },
      template: { goal: 'Help the person' },
    });
    expect(put.status, put.text).toBe(200);
    const names = await toolsOfRun(async () => {
      const sent = await h.request('POST', '/v1/chat/messages', { id: 'ui-1', text: 'hi there' });
      expect(sent.status, sent.text).toBe(202);
      const list = (await h.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
      const channel = list.approvals.find((a) => a.kind === 'channel');
      const decided = await h.request('POST', `/v1/approvals/${channel?.id ?? ''}`, {
        decision: 'approve',
      });
      expect(decided.status, decided.text).toBe(200);
      const row = await h.started.store.db
        .selectFrom('connector_messages')
        .select(['run_id'])
        .executeTakeFirstOrThrow();
      if (row.run_id === null) throw new Error('the message started no run');
      return row.run_id;
    });
    for (const t of TRANSFORM_TOOLS) expect(names).toContain(t);
  });
});
