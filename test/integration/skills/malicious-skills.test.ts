import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { isAppError } from '../../../main/errors.ts';
import {
  FIXTURES,
  makeKit,
  PLUGINS,
  prepareSkill,
  startTestServer,
  type Kit,
  type TestServer,
} from './skill-test-kit.ts';

/**
 * The malicious-skill suite (issue 4): each fixture under test/fixtures/skills/malicious tries
 * one escape or abuse. Every attempt must fail with a stable code, leave the host untouched,
 * and leave other skills working.
 */

const CANARY = 'sk-canary-7f3e9a1c5b';
const MARKER = path.join(os.tmpdir(), `ccos-pwned-${process.pid}`);

let kit: Kit;
let serverA: TestServer;
let serverB: TestServer;
const cleanups: (() => Promise<void>)[] = [];

type HostSnapshot = {
  globals: string[];
  objectProto: string[];
  arrayProto: string[];
  exitCode: typeof process.exitCode;
  envKeys: number;
};
const snapshot = (): HostSnapshot => ({
  globals: Object.getOwnPropertyNames(globalThis).sort(),
  objectProto: Object.getOwnPropertyNames(Object.prototype).sort(),
  arrayProto: Object.getOwnPropertyNames(Array.prototype).sort(),
  exitCode: process.exitCode,
  envKeys: Object.keys(process.env).length,
});

async function failure(promise: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await promise;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  serverA = await startTestServer();
  serverB = await startTestServer();
  kit = makeKit();
  kit.secrets.set('API_KEY', CANARY);
  kit.secrets.set('OTHER_KEY', 'never-declared-value');
  await kit.registry.install(path.join(PLUGINS, 'echo-notes'));
});

afterAll(async () => {
  kit.registry.dispose();
  await Promise.all([serverA.close(), serverB.close(), ...cleanups.map((c) => c())]);
});

async function install(name: string): Promise<string> {
  const prepared = await prepareSkill(path.join(FIXTURES, 'malicious', name), {
    ORIGIN_A: serverA.origin,
    ORIGIN_B: serverB.origin,
  });
  cleanups.push(prepared.cleanup);
  return (await kit.registry.install(prepared.dir)).skill_id;
}

type Case = {
  fixture: string;
  op?: string;
  input?: Record<string, unknown>;
  code: ErrorCode;
  check?: (f: { message: string }, elapsedMs: number) => void;
};

const CASES: Case[] = [
  {
    fixture: 'escape-process',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/process is not defined/);
    },
  },
  {
    fixture: 'escape-require',
    input: { marker: MARKER },
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/require is not defined/);
      expect(existsSync(MARKER)).toBe(false);
    },
  },
  {
    fixture: 'escape-function-constructor',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/undefined/);
    },
  },
  {
    fixture: 'escape-dynamic-import',
    input: { marker: MARKER },
    code: 'SKILL_ERROR',
    check: () => {
      expect(existsSync(MARKER)).toBe(false);
    },
  },
  {
    fixture: 'escape-timers',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/setTimeout is not defined/);
    },
  },
  {
    fixture: 'tamper-bindings',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/read.only|Cannot assign/i);
    },
  },
  {
    fixture: 'prototype-pollution',
    code: 'SKILL_BAD_OUTPUT',
    check: () => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const stored = kit.memory.data.get('prototype-pollution/notes/__proto__');
      expect(stored).toBeDefined();
      expect((JSON.parse(stored ?? '{}') as Record<string, unknown>).polluted).toBeUndefined();
    },
  },
  {
    fixture: 'fetch-undeclared-origin',
    code: 'SKILL_EGRESS_DENIED',
    check: () => {
      expect(serverB.requests).toHaveLength(0);
    },
  },
  {
    fixture: 'fetch-undeclared-method',
    code: 'SKILL_EGRESS_DENIED',
    check: () => {
      expect(serverA.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    },
  },
  {
    fixture: 'read-secret-value',
    code: 'SKILL_ERROR',
    check: (f) => {
      // The server did get the real secret (substituted by the host)...
      expect(serverA.requests.some((r) => r.headers.authorization === CANARY)).toBe(true);
      // ...but what came back to the skill had it scrubbed.
      expect(f.message).not.toContain(CANARY);
      expect(f.message).toContain('[REDACTED]');
    },
  },
  {
    fixture: 'read-undeclared-secret',
    code: 'SKILL_PERMISSION_DENIED',
    check: (f) => {
      expect(f.message).not.toContain('never-declared-value');
    },
  },
  {
    fixture: 'redirect-exfiltration',
    code: 'SKILL_EGRESS_DENIED',
    check: () => {
      expect(serverB.requests).toHaveLength(0);
    },
  },
  {
    fixture: 'redirect-secret-forwarding',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toContain('landed');
      expect(serverB.requests.length).toBeGreaterThan(0);
      for (const r of serverB.requests) expect(r.headers.authorization).toBeUndefined();
      expect(f.message).not.toContain(CANARY);
    },
  },
  { fixture: 'memory-undeclared-namespace', code: 'SKILL_PERMISSION_DENIED' },
  {
    fixture: 'capability-escape',
    code: 'CAPABILITY_DENIED',
    check: () => {
      expect(serverA.requests).toHaveLength(0);
      expect(kit.memory.data.has('notes/escaped')).toBe(false);
    },
  },
  { fixture: 'infinite-loop', code: 'SKILL_TIMEOUT' },
  { fixture: 'infinite-loop-after-await', code: 'SKILL_TIMEOUT' },
  {
    fixture: 'long-sync-call',
    code: 'SKILL_TIMEOUT',
    check: (_f, elapsed) => {
      expect(elapsed).toBeLessThan(2_500);
    },
  },
  { fixture: 'memory-bomb', code: 'SKILL_MEMORY' },
  {
    // Like wasm memory, ICU memory behind Intl objects is outside the heap limit: no Intl.
    fixture: 'intl-memory',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/Intl is not defined/);
    },
  },
  {
    // Issue 17 #25: wasm memory is outside the isolate's heap limit, so there is no wasm at all.
    fixture: 'wasm-memory',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/WebAssembly is not defined/);
    },
  },
  { fixture: 'giant-output', code: 'SKILL_OUTPUT_TOO_LARGE' },
  {
    fixture: 'giant-binding-argument',
    code: 'PAYLOAD_TOO_LARGE',
    check: () => {
      expect(kit.logs.some((l) => l.message.length > 1000)).toBe(false);
    },
  },
  {
    fixture: 'throw-non-errors',
    op: 'throwNull',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toContain('null');
    },
  },
  {
    fixture: 'throw-non-errors',
    op: 'throwSymbol',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toContain('Symbol(boom)');
    },
  },
  // The skill claims a binding's code; the host issued no such refusal, so it is not believed.
  { fixture: 'throw-non-errors', op: 'throwForgedCode', code: 'SKILL_ERROR' },
  {
    fixture: 'throw-non-errors',
    op: 'throwHostileObject',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toContain('unprintable');
    },
  },
  { fixture: 'bad-return-values', op: 'returnSymbol', code: 'SKILL_BAD_OUTPUT' },
  { fixture: 'bad-return-values', op: 'returnFunction', code: 'SKILL_BAD_OUTPUT' },
  { fixture: 'bad-return-values', op: 'returnBigInt', code: 'SKILL_BAD_OUTPUT' },
  { fixture: 'bad-return-values', op: 'returnCycle', code: 'SKILL_BAD_OUTPUT' },
  {
    fixture: 'recursion-depth',
    code: 'SKILL_ERROR',
    check: (f) => {
      expect(f.message).toMatch(/Maximum call stack/);
    },
  },
];

describe('malicious skills are contained', () => {
  test('the suite covers at least 15 distinct plugins', () => {
    expect(new Set(CASES.map((c) => c.fixture)).size).toBeGreaterThanOrEqual(15);
  });

  test.each(
    CASES.map((c) => ({ ...c, name: c.op === undefined ? c.fixture : `${c.fixture}.${c.op}` })),
  )('$name fails with $code and changes nothing in the host', async (c) => {
    const skillId = await install(c.fixture);
    const before = snapshot();
    serverA.requests.length = 0;
    serverB.requests.length = 0;
    let ticks = 0;
    // The host's event loop must keep turning while a skill burns CPU.
    const ticker = setInterval(() => {
      ticks += 1;
    }, 20);
    const started = performance.now();
    const f = await failure(kit.registry.call(skillId, c.op ?? 'attack', c.input ?? {}));
    const elapsed = performance.now() - started;
    clearInterval(ticker);

    expect(f.code).toBe(c.code);
    c.check?.(f, elapsed);
    if (elapsed > 200) expect(ticks).toBeGreaterThan(elapsed / 20 / 4);
    expect(snapshot()).toEqual(before);
    expect(existsSync(MARKER)).toBe(false);
    // Another skill is unaffected...
    expect(await kit.registry.call('echo-notes', 'echo', { text: 'still here' })).toEqual({
      text: 'still here',
    });
    // ...and the attacker's own skill still gets a working (possibly recreated) isolate.
    expect((await failure(kit.registry.call(skillId, c.op ?? 'attack', c.input ?? {}))).code).toBe(
      c.code,
    );
    kit.registry.unload(skillId);
  });

  test('refusals are audited as denials with no secret values', () => {
    const denials = kit.audits.filter((a) => a.outcome === 'denied');
    expect(denials.map((d) => d.code)).toEqual(
      expect.arrayContaining([
        'SKILL_EGRESS_DENIED',
        'SKILL_PERMISSION_DENIED',
        'CAPABILITY_DENIED',
      ]),
    );
    expect(JSON.stringify(kit.audits)).not.toContain(CANARY);
  });
});
