import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDACTED_PATTERN, REDACTED_SECRET, Redactor } from '../../../main/policy/redactor.ts';

const S = REDACTED_SECRET;
const P = REDACTED_PATTERN;

function withKnown(...values: string[]): Redactor {
  const r = new Redactor();
  for (const v of values) r.addKnownValue(v);
  return r;
}

describe('Redactor: known values', () => {
  it('replaces every occurrence of a known value, wherever it sits in the text', () => {
    const r = withKnown('hunter2-very-secret');
    expect(r.redactString('a hunter2-very-secret b hunter2-very-secret')).toBe(`a ${S} b ${S}`);
    expect(r.redactString('xhunter2-very-secretx')).toBe(`x${S}x`);
  });

  it('replaces a value containing another one whole, whichever was added first', () => {
    for (const order of [
      ['abcdef123', 'abcdef123456'],
      ['abcdef123456', 'abcdef123'],
    ]) {
      const r = withKnown(...order);
      expect(r.redactString('k=abcdef123456;')).toBe(`k=${S};`);
      expect(r.redactString('k=abcdef123;')).toBe(`k=${S};`);
    }
  });

  it('leaves no plaintext of either of two overlapping values', () => {
    const r = withKnown('secretAAAA', 'AAAAsecret');
    for (const text of ['secretAAAAsecret', 'AAAAsecretAAAA', 'x secretAAAA y AAAAsecret']) {
      const out = r.redactString(text);
      expect(out).not.toContain('secretAAAA');
      expect(out).not.toContain('AAAAsecret');
    }
  });

  it('treats values as text, not as patterns', () => {
    const r = withKnown('a.b*c+d?(e)');
    expect(r.redactString('axbxcxd e a.b*c+d?(e)')).toBe(`axbxcxd e ${S}`);
  });

  it('ignores values too short to replace without shredding ordinary text', () => {
    const r = withKnown('abc', 'the', '12345');
    const text = 'the abc of 12345 is the answer';
    expect(r.redactString(text)).toBe(text);
  });

  it('replaces a value learned later in text redacted again', () => {
    const r = new Redactor();
    expect(r.redactString('token canary-0123456789')).toBe('token canary-0123456789');
    r.addKnownValue('canary-0123456789');
    expect(r.redactString('token canary-0123456789')).toBe(`token ${S}`);
  });
});

/** Issue 17 #20: the secret encoded is still the secret. */
describe('Redactor: encoded copies of known values', () => {
  const SECRET = 'canary-7Hq/+x=s3cr3t~value!';
  const r = withKnown(SECRET);
  const bytes = Buffer.from(SECRET);

  it('replaces hex in either case and URL-encoded forms', () => {
    const forms = [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      encodeURIComponent(SECRET),
      encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      new URLSearchParams({ q: `${SECRET} x` }).toString().slice(2, -2),
    ];
    for (const form of forms) {
      const out = r.redactString(`before ${form} after`);
      expect(out, form).toBe(`before ${S} after`);
    }
  });

  it('replaces base64 and base64url copies at every alignment inside a longer blob', () => {
    for (let prefix = 0; prefix < 6; prefix++) {
      for (let suffix = 0; suffix < 4; suffix++) {
        const blob = Buffer.concat([randomBytes(prefix), bytes, randomBytes(suffix)]);
        for (const encoding of ['base64', 'base64url'] as const) {
          const text = blob.toString(encoding);
          const out = r.redactString(`data:${text};`);
          expect(out, `${encoding} +${prefix}/+${suffix}`).toContain(S);
          // What is left cannot be decoded back to the secret.
          const left = out.replace(S, '');
          expect(Buffer.from(left, encoding).includes(bytes)).toBe(false);
          expect(left.length).toBeLessThan(12 + 8);
        }
      }
    }
  });

  it('drops a value when its handle is disposed, once every holder has let go', () => {
    const red = new Redactor();
    const a = red.addKnownValue('canary-disposable-1');
    const b = red.addKnownValue('canary-disposable-1');
    expect(red.knownValueCount).toBe(1);
    a.dispose();
    a.dispose(); // twice is harmless and does not release b's hold
    expect(red.redactString('x canary-disposable-1')).toBe(`x ${S}`);
    b.dispose();
    expect(red.knownValueCount).toBe(0);
    expect(red.redactString('x canary-disposable-1')).toBe('x canary-disposable-1');
  });

  it('finds many known values in one pass, each replaced whole', () => {
    const values = Array.from(
      { length: 500 },
      (_, i) => `known-${i}-${randomBytes(6).toString('hex')}`,
    );
    const red = withKnown(...values);
    const text = values.filter((_, i) => i % 7 === 0).join(' | ');
    const out = red.redactString(text);
    for (const v of values) expect(out).not.toContain(v);
    expect(out.split(S)).toHaveLength(Math.ceil(500 / 7) + 1);
  });
});

/** Issue 18: every segment adds its token and releases it; that must not rebuild the matcher. */
describe('Redactor: known values coming and going', () => {
  const token = (): string =>
    `ccos.tok_${randomBytes(16).toString('hex')}.${randomBytes(32).toString('base64url')}`;

  it('keeps its matcher on a release, until released values outnumber held ones', () => {
    const red = new Redactor();
    const tokens = Array.from({ length: 10 }, token);
    const handles = tokens.map((t) => red.addKnownValue(t));
    expect(red.redactString(`a ${tokens[0] ?? ''}`)).toBe(`a ${S}`);
    expect(red.knownMatcherBuilds).toBe(1);
    for (let i = 0; i < 5; i++) {
      handles[i]?.dispose();
      // Released: no longer replaced, though its patterns are still in the matcher.
      expect(red.redactString(`a ${tokens[i] ?? ''}`)).toBe(`a ${P}`);
      expect(red.holdsKnownValue(tokens[i] ?? '')).toBe(false);
      expect(red.redactString(`b ${tokens[9] ?? ''}`)).toBe(`b ${S}`);
    }
    expect(red.knownMatcherBuilds).toBe(1);
    // A released value added again needs nothing new.
    red.addKnownValue(tokens[0] ?? '');
    expect(red.holdsKnownValue(tokens[0] ?? '')).toBe(true);
    expect(red.knownMatcherBuilds).toBe(1);
    // Six released, five held: the next use compacts, so memory follows what is held.
    handles[5]?.dispose();
    handles[6]?.dispose();
    expect(red.knownValueCount).toBe(4);
    expect(red.redactString(`c ${tokens[9] ?? ''}`)).toBe(`c ${S}`);
    expect(red.knownMatcherBuilds).toBe(2);
  });

  it('still replaces a held value inside a released one, and the released one no more', () => {
    const red = new Redactor();
    const outer = red.addKnownValue('canary-outer-secret-value');
    red.addKnownValue('secret-value');
    red.addKnownValue('canary-unrelated');
    expect(red.redactString('x canary-outer-secret-value y')).toBe(`x ${S} y`);
    outer.dispose();
    expect(red.knownMatcherBuilds).toBe(1);
    expect(red.redactString('x canary-outer-secret-value y')).toBe(`x canary-outer-${S} y`);
    const hex = Buffer.from('canary-outer-secret-value').toString('hex');
    expect(red.redactString(hex)).toBe(hex.slice(0, 26) + S);
  });

  it('builds once per new value under churn, however it interleaves', () => {
    const red = new Redactor();
    const live = Array.from({ length: 10 }, () => red.addKnownValue(token()));
    for (let i = 0; i < 50; i++) {
      live.shift()?.dispose();
      red.redactString('a 500-byte log line, more or less');
      const t = token();
      live.push(red.addKnownValue(t));
      expect(red.redactString(`got ${t}`)).toBe(`got ${S}`);
    }
    // The first use builds over the first ten; then each new token once (a rebuild on every
    // change would be twice that).
    expect(red.knownMatcherBuilds).toBe(1 + 50);
  });
});

describe('Redactor: credential patterns', () => {
  const r = new Redactor();
  const cases: [string, string][] = [
    ['Authorization: Bearer abcdEFGH1234._~+/=', `Authorization: ${P}`],
    ['bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', P],
    ['key sk-abcdefghijklmnop1234 end', `key ${P} end`],
    ['sk-ant-api03-AbCdEfGhIjKlMnOpQrSt', P],
    ['sk-proj-AbCdEfGhIjKlMnOpQrSt', P],
    ['moltbook_sk_0123456789abcdef', P],
    [`ccos.tok_${'a'.repeat(32)}.${'Z'.repeat(43)}`, P],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123', P],
    ['xoxb-1234567890-abcdef', P],
    ['AKIAABCDEFGHIJKLMNOP', P],
  ];
  it.each(cases)('masks %s', (text, expected) => {
    expect(r.redactString(text)).toBe(expected);
  });

  it('leaves look-alikes that are too short or not credentials alone', () => {
    for (const text of [
      'Bearer abc',
      'sk-short',
      'task-abcdefghijklmnopqrstu',
      'moltbook_',
      'ccos.tok_123.abc',
      'the bearer of good news',
    ]) {
      expect(r.redactString(text)).toBe(text);
    }
  });
});

describe('Redactor: values', () => {
  it('masks long key-like strings in auth-like fields, whatever the field spelling', () => {
    const r = new Redactor();
    const key = 'Zq81xY7LmN0pQrStUvWx';
    const fields = [
      'authorization',
      'Authorization',
      'x-api-key',
      'api_key',
      'apiKey',
      'token',
      'access_token',
      'accessToken',
      'refreshToken',
      'client_secret',
      'clientSecret',
      'password',
      'cookie',
      'session_key',
      'private-key',
      'credentials',
    ];
    const out = r.redactValue(Object.fromEntries(fields.map((f) => [f, key])));
    expect(out).toEqual(Object.fromEntries(fields.map((f) => [f, P])));
  });

  it('keeps short or spaced values in auth-like fields, and key-like values in other fields', () => {
    const r = new Redactor();
    expect(
      r.redactValue({
        token: 'short',
        password: 'not a key, just words',
        tokens: 1234,
        tokenizer: 'Zq81xY7LmN0pQrStUvWx',
        request_id: 'Zq81xY7LmN0pQrStUvWx',
      }),
    ).toEqual({
      token: 'short',
      password: 'not a key, just words',
      tokens: 1234,
      tokenizer: 'Zq81xY7LmN0pQrStUvWx',
      request_id: 'Zq81xY7LmN0pQrStUvWx',
    });
  });

  it('redacts nested objects, arrays (items keep their field name) and errors', () => {
    const r = withKnown('canary-known-value');
    const error = Object.assign(new Error('failed with canary-known-value'), {
      code: 'SKILL_ERROR',
      detail: { header: 'Bearer abcdefghijklmnop' },
    });
    const out = r.redactValue({
      a: { b: [{ c: 'x canary-known-value y' }, 'sk-abcdefghijklmnop1234'] },
      tokens: ['Zq81xY7LmN0pQrStUvWx', 'ok'],
      err: error,
      n: 1,
      t: true,
      z: null,
    });
    expect(out).toEqual({
      a: { b: [{ c: `x ${S} y` }, P] },
      tokens: [P, 'ok'],
      err: {
        name: 'Error',
        message: `failed with ${S}`,
        code: 'SKILL_ERROR',
        detail: { header: P },
      },
      n: 1,
      t: true,
      z: null,
    });
    // A copy: the input is untouched.
    expect(error.message).toBe('failed with canary-known-value');
  });

  it('stops at the depth limit, also on a cycle, without leaking below it', () => {
    const r = withKnown('canary-known-value');
    let deep: Record<string, unknown> = { secret: 'canary-known-value' };
    for (let i = 0; i < 30; i++) deep = { next: deep };
    const out = JSON.stringify(r.redactValue(deep));
    expect(out).toContain('[REDACTED:too-deep]');
    expect(out).not.toContain('canary-known-value');

    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    expect(JSON.stringify(r.redactValue(cycle))).toContain('[REDACTED:too-deep]');
  });

  it('keeps dates as their time instead of emptying them', () => {
    const r = new Redactor();
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(r.redactValue({ at })).toEqual({ at: '2026-01-02T03:04:05.000Z' });
  });
});
