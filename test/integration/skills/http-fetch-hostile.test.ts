import { createServer, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { isAppError } from '../../../main/errors.ts';
import { manifest, operation, writeSkillFolder } from '../execute/helpers/skill-folder.ts';
import { listenOnLoopback, makeKit, type Kit } from './skill-test-kit.ts';

/**
 * Issue 17 #26: skill-controlled HTTP input must end in a stable code naming the cause, never
 * `INTERNAL "binding http.fetch failed"`. Real isolates, a real server on 127.0.0.1.
 */

const HTTP_TIMEOUT_MS = 300;
let kit: Kit;
let origin: string;
let close: () => Promise<void>;
/** Requests that reached the server, by path: a refused header must send nothing. */
const reached: string[] = [];
/** Responses still trickling, ended when the test is over. */
const open = new Set<ServerResponse>();

beforeAll(async () => {
  const server = createServer((req, res) => {
    reached.push(req.url ?? '');
    if (req.url === '/trickle') {
      // Headers and a first byte at once, then one byte per event-loop turn of the client's
      // patience: the body never ends, so only the client's time limit can stop it.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x');
      open.add(res);
      const drip = setInterval(() => res.write('x'), 50);
      res.on('close', () => {
        clearInterval(drip);
        open.delete(res);
      });
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial', () => res.socket?.destroy());
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
    }
  });
  ({ origin, close } = await listenOnLoopback(server));
  kit = makeKit({ callTimeoutMs: 10_000 }, HTTP_TIMEOUT_MS);
  kit.secrets.set('BROKEN_KEY', 'line-one\r\nX-Injected: yes');
  const folder = await writeSkillFolder(
    manifest('hostile-http', [operation('send', { capabilities: ['net.http'] })], {
      egress: [{ origin, methods: ['GET'] }],
      secrets: ['BROKEN_KEY'],
    }),
    'export async function send(input) { return await ccos.http.fetch(input.request); }',
  );
  await kit.registry.install(folder.dir);
  await folder.cleanup();
});

afterAll(async () => {
  kit.registry.dispose();
  for (const res of open) res.destroy();
  await close();
});

async function failure(request: unknown): Promise<{ code: ErrorCode; message: string }> {
  try {
    await kit.registry.call('hostile-http', 'send', { request });
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('ccos.http.fetch refuses bad headers before sending', () => {
  test.each([
    ['a CR/LF in a value (header injection)', { 'x-a': 'ok\r\nX-Injected: yes' }, /CR, LF or NUL/],
    ['a lone LF in a value', { 'x-a': 'ok\nmore' }, /CR, LF or NUL/],
    ['a NUL in a value', { 'x-a': 'ok\u0000' }, /CR, LF or NUL/],
    ['a character above Latin-1 in a value', { 'x-a': 'price €5' }, /U\+00FF/],
    ['a space in a name', { 'x a': 'v' }, /header names/],
    ['a colon in a name', { 'x-a:': 'v' }, /header names/],
    ['a CR/LF in a name', { 'x-a\r\nX-Injected': 'v' }, /header names/],
    ['a non-ASCII name', { 'x-é': 'v' }, /header names/],
  ])('%s is INVALID_INPUT naming the header', async (_what, headers, reason) => {
    reached.length = 0;
    const f = await failure({ url: `${origin}/echo`, headers });
    expect(f.code).toBe('INVALID_INPUT');
    expect(f.message).toMatch(reason);
    // Names are quoted as JSON, so a CR/LF in one cannot break the message into lines.
    const name = Object.keys(headers)[0] ?? '';
    expect(f.message.includes(name) || f.message.includes(JSON.stringify(name))).toBe(true);
    expect(f.message).not.toMatch(/[\r\n]/);
    expect(reached).toEqual([]);
  });

  test('Latin-1 values are still sent', async () => {
    const res = (await kit.registry.call('hostile-http', 'send', {
      request: { url: `${origin}/echo`, headers: { 'x-a': 'café' } },
    })) as { status: number };
    expect(res.status).toBe(200);
  });

  test('a secret whose value cannot be a header is refused without showing it', async () => {
    reached.length = 0;
    const f = await failure({
      url: `${origin}/echo`,
      headers: { authorization: { $secret: 'BROKEN_KEY' } },
    });
    expect(f.code).toBe('SKILL_HTTP_FAILED');
    expect(f.message).toContain('BROKEN_KEY');
    expect(f.message).not.toContain('line-one');
    expect(reached).toEqual([]);
  });
});

describe('ccos.http.fetch failures while reading the body', () => {
  test('a body that trickles past the time limit is SKILL_HTTP_FAILED, timed out', async () => {
    const f = await failure({ url: `${origin}/trickle` });
    expect(f.code).toBe('SKILL_HTTP_FAILED');
    expect(f.message).toMatch(/timed out after 300 ms while reading the response body/);
  });

  test('a connection cut mid-body is SKILL_HTTP_FAILED with the cause', async () => {
    const f = await failure({ url: `${origin}/cut` });
    expect(f.code).toBe('SKILL_HTTP_FAILED');
    expect(f.message).toMatch(/broke off while reading the response body: \S+/);
  });

  test('the skill keeps working afterwards', async () => {
    const res = (await kit.registry.call('hostile-http', 'send', {
      request: { url: `${origin}/echo` },
    })) as { status: number };
    expect(res.status).toBe(200);
  });
});
