import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Step } from '../../../contracts/runs.ts';
import {
  startRecordingServer,
  type CannedResponse,
  type RecordingServer,
} from '../llm/recording-http-server.ts';
import {
  pack,
  RUN_TIMEOUT_MS,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

/** A key a careless provider quotes back in its 401; it must not appear anywhere we write. */
const KEY = 'sk-canary-7f3a91c2d4e5b6a708192a3b4c5d6e7f';
const SECRET = 'LLM_API_KEY';

/** Small backoffs so the tests wait for events, not for minutes. */
const QUICK = pack('quick', {
  llm_retry: { max_consecutive_failures: 3, base_delay_ms: 50, max_delay_ms: 5_000 },
});

function openAiError(status: number, message: string, headers?: Record<string, string>) {
  return {
    status,
    body: { error: { message, type: 'invalid_request_error', param: null, code: null } },
    ...(headers === undefined ? {} : { headers }),
  } satisfies CannedResponse;
}

/** A final answer without tool calls: the worker claims completion. */
const DONE: CannedResponse = {
  status: 200,
  body: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'fake-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', refusal: null, content: 'The goal is met.' },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
  },
};

/** Every log line the host wrote, parsed. */
function logCapture(): {
  stream: Writable;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function stepsOf(host: AutonomyHost, runId: string): Promise<Step[]> {
  const res = await host.request('GET', `/v1/runs/${runId}/steps`);
  return (res.body as { steps: Step[] }).steps;
}

function llmCalls(entries: readonly ChainEntry[]): ChainEntry[] {
  return entries.filter((e) => e.event_type === 'llm.call');
}

describe('LLM failures are judged where the host makes the call', () => {
  let host: AutonomyHost | undefined;
  let server: RecordingServer | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await server?.close();
    server = undefined;
  });

  async function start(
    handle: (n: number) => CannedResponse,
    options: { baseUrl?: string; log?: Writable } = {},
  ): Promise<AutonomyHost> {
    let n = 0;
    server = await startRecordingServer(() => handle(n++));
    host = await startAutonomyHost({
      transcript: { entries: [] },
      packs: [QUICK],
      installEchoNotes: false,
      llm: {
        kind: 'openai_compatible',
        base_url: options.baseUrl ?? `${server.url}/v1`,
        model: 'fake-model',
        api_key_secret: SECRET,
      },
      ...(options.log === undefined ? {} : { logDestination: options.log }),
    });
    await host.started.secrets.set(SECRET, KEY, { actor: 'test' });
    return host;
  }

  it(
    'a refused key (401) fails the run at once with llm_auth, spends no retry, and says why on the run, a step, the chain and a warn line, never quoting the key',
    async () => {
      const log = logCapture();
      const h = await start(
        () => openAiError(401, `Incorrect API key provided: ${KEY}. Find your key at …`),
        { log: log.stream },
      );
      const created = await h.createRun({ goal: 'Say hello.', policy_pack: 'quick' });
      const run = await h.settle(created.id);

      expect(run.state).toBe('failed');
      expect(run.state_reason).toMatch(/^llm_auth: the provider refused the API key \(401\)/);
      expect(run.usage.retries).toBe(0);
      // Permanent: the provider was asked once, not once per retry.
      expect(server?.requests).toHaveLength(1);

      const steps = await stepsOf(h, run.id);
      expect(steps).toEqual([
        expect.objectContaining({ kind: 'llm', outcome: 'error:LLM_AUTH', tokens: 0 }),
      ]);
      expect(steps[0]?.summary).toMatch(/^llm_auth:/);

      const chain = await h.runChain(run.id);
      expect(llmCalls(chain).map((e) => e.data)).toEqual([
        expect.objectContaining({ outcome: 'failed', code: 'LLM_AUTH', failure: 'permanent' }),
      ]);
      const failed = chain.find((e) => e.event_type === 'run.transition' && e.data.to === 'failed');
      expect(String(failed?.data.reason)).toMatch(/^llm_auth:/);
      expect(chain.filter((e) => e.event_type === 'segment.started')).toHaveLength(1);

      const warn = log.lines().find((l) => l.msg === 'LLM call failed: the run stops');
      expect(warn).toMatchObject({ level: 40, run_id: run.id, code: 'LLM_AUTH' });
      expect(String(warn?.reason)).toMatch(/^llm_auth:/);

      // The provider quoted the key: it is scrubbed from everything the host wrote.
      for (const place of [
        log.text(),
        JSON.stringify(run),
        JSON.stringify(steps),
        JSON.stringify(chain),
      ])
        expect(place).not.toContain(KEY);
    },
    RUN_TIMEOUT_MS,
  );

  it.each([400, 404, 422])(
    'a refused request (%i) fails the run at once with llm_rejected after one request',
    async (status) => {
      const h = await start(() => openAiError(status, 'model "fake-model" does not exist'));
      const created = await h.createRun({ goal: 'Say hello.', policy_pack: 'quick' });
      const run = await h.settle(created.id);
      expect(run.state).toBe('failed');
      expect(run.state_reason).toMatch(
        new RegExp(`^llm_rejected: the provider refused the request \\(${status}\\)`),
      );
      expect(run.usage.retries).toBe(0);
      expect(server?.requests).toHaveLength(1);
      expect((await stepsOf(h, run.id)).map((s) => s.outcome)).toEqual(['error:LLM_REJECTED']);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a rate limit waits at least the retry-after the provider asked, a 5xx backs off, then the run goes on without spending a retry',
    async () => {
      const h = await start((n) =>
        n === 0
          ? openAiError(429, 'Rate limit reached', { 'retry-after': '1' })
          : n === 1
            ? openAiError(503, 'overloaded')
            : DONE,
      );
      const created = await h.createRun({ goal: 'Say hello.', policy_pack: 'quick' });
      const run = await h.settle(created.id);

      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(0);
      const requests = server?.requests ?? [];
      expect(requests).toHaveLength(3);
      // A lower bound only: a slow machine makes the wait longer, never shorter.
      expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);

      const chain = await h.runChain(run.id);
      expect(llmCalls(chain).map((e) => e.data.outcome ?? 'ok')).toEqual([
        'failed',
        'failed',
        'ok',
      ]);
      expect(llmCalls(chain)[0]?.data).toMatchObject({
        code: 'LLM_RATE_LIMITED',
        failure: 'transient',
        retry_after_ms: 1000,
      });
      const waits = chain.filter(
        (e) => e.event_type === 'run.transition' && typeof e.data.not_before === 'string',
      );
      expect(waits.map((e) => String(e.data.reason).split(':')[0])).toEqual([
        'llm_rate_limited',
        'llm_unavailable',
      ]);
      expect(String(waits[0]?.data.reason)).toMatch(/failure 1 of 3, trying again at /);
      const ends = chain.filter((e) => e.event_type === 'segment.ended');
      expect(ends.map((e) => e.data.failure)).toEqual([null, null, null]);
      expect((await stepsOf(h, run.id)).map((s) => s.outcome)).toEqual([
        'error:LLM_RATE_LIMITED',
        'error:LLM_UNAVAILABLE',
        'ok',
      ]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'an unreachable provider names its cause (ECONNREFUSED) and fails the run after max_consecutive_failures in a row, not after retries',
    async () => {
      // A port that was just free and has nothing listening any more.
      const closed = await startRecordingServer(() => DONE);
      const deadUrl = `${closed.url}/v1`;
      await closed.close();
      const h = await start(() => DONE, { baseUrl: deadUrl });
      const created = await h.createRun({
        goal: 'Say hello.',
        policy_pack: 'quick',
        budget: { max_retries: 0 },
      });
      const run = await h.settle(created.id);

      expect(run.state).toBe('failed');
      expect(run.state_reason).toMatch(/^llm_unavailable: the provider could not answer/);
      expect(run.state_reason).toContain('ECONNREFUSED');
      expect(run.state_reason).toMatch(/gave up after 3 failures in a row$/);
      expect(run.usage.retries).toBe(0);
      const outcomes = (await stepsOf(h, run.id)).map((s) => s.outcome);
      expect(outcomes).toEqual(Array(3).fill('error:LLM_UNAVAILABLE'));
    },
    RUN_TIMEOUT_MS,
  );
});
