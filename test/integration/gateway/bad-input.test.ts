import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import {
  errorFields,
  errorOf,
  startGatewayHost,
  type ApiResponse,
  type GatewayTestHost,
} from './helpers/gateway-host.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
const ONE_MIB = 1024 * 1024;

/**
 * Issue 3, "Bad input": whatever arrives, the answer is a 4xx error envelope naming the
 * field at fault, never a 500, and the host keeps working.
 */
describe('gateway bad input', () => {
  let gw: GatewayTestHost;
  let approvalId: string;

  beforeAll(async () => {
    gw = await startGatewayHost();
    const run = await gw.started.runs.create({ goal: 'waits' }, { actor: 'test' });
    await gw.started.runs.transition(run.id, 'running', { actor: 'test' });
    const { approval } = await gw.started.approvals.requestAndPause(
      {
        run_id: run.id,
        step_id: 'step_1',
        kind: 'budget',
        rule_id: 'test.asks',
        scope: 'max_steps',
        justification: 'more steps',
        permission_diff: [{ permission: 'max_steps', from: 50, to: 100 }],
        request: {},
      },
      { actor: 'test' },
    );
    approvalId = approval.id;
  });
  afterAll(async () => {
    await gw.stop();
  });

  const postRaw = (path: string, raw: string, headers: Record<string, string> = JSON_TYPE) =>
    gw.request('POST', path, { raw, headers });

  function expectInvalid(res: ApiResponse, field?: string): void {
    expect(res.status, res.text).toBe(400);
    expect(errorOf(res).code).toBe('INVALID_INPUT');
    if (field !== undefined) expect(errorFields(res)).toContain(field);
  }

  describe('malformed JSON and missing bodies', () => {
    it.each([
      ['truncated', '{"goal":'],
      ['unquoted key', '{goal:"x"}'],
      ['single quotes', "{'goal':'x'}"],
      ['trailing comma', '{"goal":"x",}'],
      ['NaN', 'NaN'],
      ['empty', ''],
      ['two documents', '{"goal":"x"}{"goal":"y"}'],
    ])('%s → 400 malformed JSON', async (_, raw) => {
      const res = await postRaw('/v1/runs', raw);
      expectInvalid(res);
      expect(errorOf(res).message).toMatch(/malformed JSON/);
    });

    it('a body that is not an object → 400 naming the root', async () => {
      for (const raw of ['null', '"goal"', '[{"goal":"x"}]', '42', 'true']) {
        expectInvalid(await postRaw('/v1/runs', raw), '(root)');
      }
    });

    it('no body at all → 400 naming the goal', async () => {
      expectInvalid(await gw.request('POST', '/v1/runs'), 'goal');
      expectInvalid(await gw.request('POST', `/v1/approvals/${approvalId}`), 'decision');
    });

    it('malformed JSON on the optional bodies of cancel and resume → 400', async () => {
      const run = await gw.started.runs.create({ goal: 'x' }, { actor: 'test' });
      expectInvalid(await postRaw(`/v1/runs/${run.id}/cancel`, '{"reason":'));
      expectInvalid(await postRaw(`/v1/runs/${run.id}/cancel`, '[1]'), '(root)');
      expect((await gw.started.runs.get(run.id)).state).toBe('pending');
    });

    // Issue 17 #31: the body of cancel and resume is optional, so an empty one with a JSON
    // content type (what many HTTP clients send for "no body") is no body, not bad JSON.
    it('an empty body with a JSON content type on cancel or resume is no body → accepted', async () => {
      const run = await gw.started.runs.create({ goal: 'x' }, { actor: 'test' });
      for (const raw of ['', ' \r\n']) {
        const res = await postRaw(`/v1/runs/${run.id}/resume`, raw);
        expect(res.status, res.text).toBe(409);
        expect(errorOf(res).code).toBe('CONFLICT');
      }
      const cancelled = await postRaw(`/v1/runs/${run.id}/cancel`, '', {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(cancelled.status, cancelled.text).toBe(200);
      expect((cancelled.body as Run).state).toBe('cancelled');
      // A required body stays required: the same empty body creates no run.
      expectInvalid(await postRaw('/v1/runs', ''));
    });
  });

  describe('wrong types and unknown fields', () => {
    it.each([
      [{ goal: 123 }, 'goal'],
      [{ goal: null }, 'goal'],
      [{ goal: ['x'] }, 'goal'],
      [{ goal: { text: 'x' } }, 'goal'],
      [{ goal: 'x', budget: 'big' }, 'budget'],
      [{ goal: 'x', budget: { max_steps: '5' } }, 'budget.max_steps'],
      [{ goal: 'x', budget: { deadline: 'tomorrow' } }, 'budget.deadline'],
      [{ goal: 'x', session_id: 5 }, 'session_id'],
      [{ goal: 'x', session_id: '' }, 'session_id'],
      [{ goal: 'x', completion: { kind: 'bogus' } }, 'completion.kind'],
      [{ goal: 'x', subgoals: 'a' }, 'subgoals'],
      [{ goal: 'x', subgoals: [{ text: 1 }] }, 'subgoals.0.text'],
      [{ goal: 'x', extra: 1 }, 'extra'],
      [{ goal: 'x', budget: { max_steps: 5, foo: 1 } }, 'budget.foo'],
      [{ goal: 'x', subgoals: [{ text: 'y', nope: true }] }, 'subgoals.0.nope'],
    ])('POST /v1/runs %j → 400 naming %s', async (json, field) => {
      expectInvalid(await gw.request('POST', '/v1/runs', { json }), field);
    });

    it('prototype keys are unknown fields, not merged in', async () => {
      expectInvalid(
        await postRaw('/v1/runs', '{"goal":"x","__proto__":{"admin":true}}'),
        '__proto__',
      );
      expectInvalid(await postRaw('/v1/runs', '{"goal":"x","constructor":{}}'), 'constructor');
    });

    it.each([
      [{ decision: 'maybe' }, 'decision'],
      [{ decision: 'approve', extra: 1 }, 'extra'],
      [{ decision: 'modify' }, 'scope'],
      [{ decision: 'approve', reason: 5 }, 'reason'],
      [{ decision: 'approve', reason: 'r'.repeat(2001) }, 'reason'],
    ])('POST /v1/approvals/{id} %j → 400 naming %s', async (json, field) => {
      expectInvalid(await gw.request('POST', `/v1/approvals/${approvalId}`, { json }), field);
      expect((await gw.started.approvals.get(approvalId)).state).toBe('pending');
    });

    it('query strings and headers are checked field by field too', async () => {
      expectInvalid(await gw.request('GET', '/v1/runs?state=sleeping'), 'state');
      expectInvalid(await gw.request('GET', '/v1/runs?limit=abc&foo=1'), 'limit');
      expectInvalid(await gw.request('GET', '/v1/runs?foo=1'), 'foo');
      expectInvalid(await gw.request('GET', '/v1/chain?after_seq=-1'), 'after_seq');
      expectInvalid(
        await gw.request('GET', '/v1/events', { headers: { 'last-event-id': 'abc' } }),
        'last-event-id',
      );
      expectInvalid(await gw.request('GET', `/v1/runs/${'x'.repeat(101)}`), 'id');
    });
  });

  describe('huge and odd numbers', () => {
    it.each([
      ['1e309 (Infinity)', '1e309'],
      ['2**64', '18446744073709551616'],
      ['above the ceiling', '10001'],
      ['negative', '-1'],
      ['zero', '0'],
      ['a float', '1.5'],
      ['-0.0000001', '-1e-7'],
    ])('budget.max_steps %s → 400 naming it', async (_, n) => {
      expectInvalid(
        await postRaw('/v1/runs', `{"goal":"x","budget":{"max_steps":${n}}}`),
        'budget.max_steps',
      );
    });

    it('token lifetimes and query limits too', async () => {
      for (const n of ['1e309', '18446744073709551616', '-5', '2.5', '1e308']) {
        expectInvalid(
          await postRaw('/v1/tokens', `{"kind":"admin","label":"x","expires_in_s":${n}}`),
          'expires_in_s',
        );
      }
      for (const n of ['1e309', '18446744073709551616', '-1', '0', '1.5', '1001']) {
        expectInvalid(await gw.request('GET', `/v1/runs?limit=${n}`), 'limit');
      }
      expectInvalid(await gw.request('GET', '/v1/chain?after_seq=1e400'), 'after_seq');
    });
  });

  describe('deep nesting', () => {
    it('400 000 nested arrays or 100 000 nested objects are a 400, not a stack overflow', async () => {
      const depth = 400_000;
      expectInvalid(
        await postRaw('/v1/runs', `{"goal":"x","budget":${'['.repeat(depth)}${']'.repeat(depth)}}`),
        'budget',
      );
      const objects = 100_000;
      expectInvalid(
        await postRaw('/v1/runs', `{"goal":${'{"a":'.repeat(objects)}1${'}'.repeat(objects)}}`),
        'goal',
      );
      expectInvalid(
        await postRaw(
          `/v1/approvals/${approvalId}`,
          `{"decision":"approve","reason":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        ),
        'reason',
      );
    });
  });

  describe('unicode in goals', () => {
    it.each([
      ['a lone high surrogate', '"a\\ud800b"'],
      ['a lone low surrogate', '"\\udfff"'],
      ['reversed surrogates', '"\\ude00\\ud83d"'],
      ['NUL', '"before\\u0000after"'],
      ['a bell', '"ring\\u0007"'],
      ['escape (ANSI)', '"\\u001b[31mred"'],
      ['DEL', '"x\\u007f"'],
      ['whitespace only', '"  \\t\\n\\r  "'],
      ['empty', '""'],
      ['10 001 characters', JSON.stringify('g'.repeat(10_001))],
      ['10 001 astral characters', JSON.stringify('😀'.repeat(10_001))],
    ])('%s → 400 naming the goal', async (_, goal) => {
      const runsBefore = (await gw.started.runs.list({ limit: 1000 })).length;
      expectInvalid(await postRaw('/v1/runs', `{"goal":${goal}}`), 'goal');
      expectInvalid(
        await postRaw('/v1/runs', `{"goal":"ok","subgoals":[{"text":${goal}}]}`),
        'subgoals.0.text',
      );
      expect((await gw.started.runs.list({ limit: 1000 })).length).toBe(runsBefore);
    });

    it.each([
      ['emoji and astral letters', '🚀 ship it 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩🏽‍💻'],
      ['combining marks', 'e\u0301\u0301\u0301 Z\u0351\u0352\u0353algo'],
      ['right-to-left text', 'שלום مرحبا'],
      ['a right-to-left override, kept exactly as sent', 'invoice_\u202Efdp.exe'],
      ['tabs and newlines', 'line one\n\tline two'],
      ['exactly 10 000 characters', 'g'.repeat(10_000)],
      ['10 000 astral characters (the limit counts code points)', '😀'.repeat(10_000)],
    ])('%s is accepted and stored exactly', async (_, goal) => {
      const res = await gw.request('POST', '/v1/runs', { json: { goal } });
      expect(res.status, res.text).toBe(201);
      const run = res.body as Run;
      expect(run.goal).toBe(goal);
      expect((await gw.started.runs.get(run.id)).goal).toBe(goal);
    });

    it('surrounding whitespace is trimmed', async () => {
      const res = await gw.request('POST', '/v1/runs', { json: { goal: '  padded \n' } });
      expect((res.body as Run).goal).toBe('padded');
    });
  });

  describe('content types and sizes', () => {
    it.each([
      ['text/plain', '{"goal":"x"}'],
      ['application/x-www-form-urlencoded', 'goal=x'],
      [
        'multipart/form-data; boundary=b',
        '--b\r\nContent-Disposition: form-data; name="goal"\r\n\r\nx\r\n--b--',
      ],
      ['application/xml', '<goal>x</goal>'],
    ])('%s → 415', async (type, raw) => {
      const res = await postRaw('/v1/runs', raw, { 'content-type': type });
      expect(res.status).toBe(415);
      expect(errorOf(res).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('a JSON body with no content-type → 415', async () => {
      const res = await gw.request('POST', '/v1/runs', { raw: '{"goal":"x"}' });
      expect(res.status).toBe(415);
    });

    it('over 1 MiB → 413, and the connection is closed so the next requests are fine', async () => {
      const runsBefore = (await gw.started.runs.list({ limit: 1000 })).length;
      const big = JSON.stringify({ goal: 'x'.repeat(ONE_MIB) });
      const res = await postRaw('/v1/runs', big);
      expect(res.status).toBe(413);
      expect(errorOf(res).code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.headers.get('connection')).toBe('close');
      // A keep-alive client must not be handed the socket the server drops.
      for (let i = 0; i < 5; i++) {
        expect(
          (await gw.request('POST', '/v1/runs', { json: { goal: `after ${i}` } })).status,
        ).toBe(201);
      }
      expect((await gw.started.runs.list({ limit: 1000 })).length).toBe(runsBefore + 5);
    });

    it('a chunked body with no Content-Length is cut at the limit too', async () => {
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 2 * ONE_MIB) {
            controller.close();
            return;
          }
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await fetch(`${gw.url}/v1/runs`, {
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: `Bearer ${gw.adminToken}` },
        body,
        duplex: 'half',
      });
      expect(res.status).toBe(413);
      await res.arrayBuffer();
    });
  });

  describe('unknown routes', () => {
    it('405 with Allow for a known path and another method, e.g. DELETE on a collection', async () => {
      for (const [method, path, allow] of [
        ['PUT', '/v1/runs', 'POST, GET'],
        ['DELETE', '/v1/runs', 'POST, GET'],
        ['DELETE', '/v1/approvals', 'GET'],
        ['PATCH', '/v1/runs/run_x', 'GET'],
      ] as const) {
        const res = await gw.request(method, path);
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe(allow);
        expect(errorOf(res).code).toBe('METHOD_NOT_ALLOWED');
      }
    });

    it('404 with the error envelope', async () => {
      for (const [method, path] of [
        ['GET', '/v1/nope'],
        ['GET', '/v1/runs/x/y/z'],
      ] as const) {
        const res = await gw.request(method, path);
        expect(res.status).toBe(404);
        expect(errorOf(res).code).toBe('NOT_FOUND');
      }
      // Under /mcp too: only paths outside the API are the UI's pages (sign-in page, 401).
      const outside = await gw.request('GET', '/mcp/nope', { token: null });
      expect(outside.status).toBe(404);
      expect(errorOf(outside).code).toBe('NOT_FOUND');
    });
  });

  describe('properties', () => {
    const bodies = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            goal: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue()),
            extra: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string(),
    );

    it('random JSON at POST /v1/runs never yields a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(bodies, async (raw) => {
          const res = await postRaw('/v1/runs', raw);
          expect(res.status, `${raw} → ${res.text}`).toBeLessThan(500);
          if (res.status >= 400) expect(errorOf(res).code).toMatch(/^[A-Z_]+$/);
        }),
        { numRuns: 200 },
      );
    });

    it('random JSON at POST /v1/approvals/{id} never yields a 5xx', async () => {
      const decisions = fc.oneof(
        bodies,
        fc
          .record(
            {
              decision: fc.constantFrom('approve', 'deny', 'modify', 'maybe'),
              scope: fc.jsonValue(),
              reason: fc.jsonValue(),
            },
            { requiredKeys: ['decision'] },
          )
          .map((v) => JSON.stringify(v)),
      );
      const ids = fc.oneof(fc.constant(approvalId), fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/));
      await fc.assert(
        fc.asyncProperty(ids, decisions, async (id, raw) => {
          const res = await postRaw(`/v1/approvals/${encodeURIComponent(id)}`, raw);
          expect(res.status, `${raw} → ${res.text}`).toBeLessThan(500);
        }),
        { numRuns: 200 },
      );
    });
  });

  it('the host is healthy afterwards and its chain verifies', async () => {
    expect((await gw.request('GET', '/v1/health', { token: null })).status).toBe(200);
    const verify = await gw.request('GET', '/v1/chain/verify');
    expect(verify.body).toMatchObject({ ok: true });
    expect((await gw.request('POST', '/v1/runs', { json: { goal: 'still works' } })).status).toBe(
      201,
    );
  });
});
