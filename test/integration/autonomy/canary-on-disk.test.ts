import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { writeSkillFolder, manifest, operation } from '../execute/helpers/skill-folder.ts';
import {
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

/** Two secrets: one a plain token, one with characters URL-encoding changes. */
const CANARY = `canary${randomBytes(16).toString('hex')}`;
const CANARY_URLISH = `c@nary/${randomBytes(8).toString('hex')}+k=v&x`;
const SECRETS = [CANARY, CANARY_URLISH];

const b64 = (prefix: string, s: string): string => Buffer.from(prefix + s).toString('base64');
/** Every encoded copy the model "knows" and hands to the skill (issue 17 #29). */
const ENCODED = {
  plain: CANARY,
  plain_urlish: CANARY_URLISH,
  base64_0: b64('', CANARY),
  base64_1: b64('x', CANARY),
  base64_2: b64('xy', CANARY),
  base64url: Buffer.from(`xy${CANARY_URLISH}`).toString('base64url'),
  hex: Buffer.from(CANARY).toString('hex'),
  hex_upper: Buffer.from(CANARY_URLISH).toString('hex').toUpperCase(),
  url: encodeURIComponent(CANARY_URLISH),
  in_text: `log in with ${CANARY} please`,
};

/**
 * Whether `bytes` hold a secret in plain, hex, URL-encoded, base64 or base64url form. Found
 * by decoding what looks encoded (not by encoding the secret the way the redactor does), so
 * the check does not share the redactor's idea of what an encoded copy is.
 */
function leaksIn(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const found: string[] = [];
  for (const secret of SECRETS) {
    const raw = Buffer.from(secret);
    if (bytes.includes(raw)) found.push(`plain ${secret}`);
    for (const run of text.match(/[0-9a-fA-F]{16,}/g) ?? []) {
      for (const offset of [0, 1]) {
        if (Buffer.from(run.slice(offset), 'hex').includes(raw)) found.push(`hex ${run}`);
      }
    }
    for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
      for (const offset of [0, 1, 2, 3]) {
        // Node's decoder reads both alphabets (base64 and base64url).
        if (Buffer.from(run.slice(offset), 'base64').includes(raw)) found.push(`base64 ${run}`);
      }
    }
    for (const run of text.match(
      /[A-Za-z0-9%+._~!*'()-]*%[0-9A-Fa-f]{2}[A-Za-z0-9%+._~!*'()-]*/g,
    ) ?? []) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(run.replaceAll('+', ' '));
      } catch {
        continue;
      }
      if (decoded.includes(secret) || decoded.includes(secret.replaceAll('+', ' ')))
        found.push(`url ${run}`);
    }
  }
  return found;
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

const LEAKY_CODE = String.raw`
export async function echoBack(input) {
  return input;
}
export async function logBack(input) {
  for (const [k, v] of Object.entries(input)) await ccos.log('warn', k + ' = ' + v);
  return { logged: Object.keys(input).length };
}
export async function throwBack(input) {
  throw new Error('cannot use ' + Object.values(input).join(' / '));
}
export async function stash(input) {
  await ccos.memory.put('stash', input.key, input.value);
  return { stashed: input.key };
}
`;

const SKILL = manifest(
  'leaky',
  [
    ...['echoBack', 'logBack', 'throwBack'].map((id) => operation(id)),
    operation('stash', {
      capabilities: ['memory.write'],
      input_schema: {
        type: 'object',
        properties: { key: { type: 'string' }, value: { type: 'string' } },
        required: ['key', 'value'],
      },
    }),
  ],
  { memory_namespaces: ['stash'] },
);

/** Short segments: the conversation (tool-call arguments included) is checkpointed often. */
const SHORT = pack('short', { segment_max_steps: 2 });

/**
 * Issue 17 #29 and the canary acceptance: a secret the model got hold of goes through tool
 * calls, checkpoints, skill outputs, logs, errors, memory, a caller's correlation id and
 * idempotency key — and is found on disk (data dir with WAL and SHM, worker temp dirs), in
 * the logs or in a response in no form: plain, hex, URL-encoded or base64 at any alignment.
 */
describe('canary: a secret is on disk, in logs and in answers in no form', () => {
  let h: AutonomyHost;
  let tmp: string;
  let previousTmp: string | undefined;
  let run: Run;
  const logLines: string[] = [];
  const answers: string[] = [];

  /**
   * Calls the API, keeping everything it answers. Once the secrets are stored, every call
   * offers the canary as its correlation id.
   */
  let offerCanaryAsCorrelationId = false;
  const api = async (
    method: string,
    urlPath: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> => {
    const token = (await readFile(h.started.adminTokenFile, 'utf8')).trim();
    const res = await fetch(`${h.started.gateway.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(offerCanaryAsCorrelationId ? { 'x-correlation-id': CANARY } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  beforeAll(async () => {
    // Everything the host and its workers write to temp goes here, so all of it is searched.
    previousTmp = process.env.TMPDIR;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ccos-canary-tmp-'));
    process.env.TMPDIR = tmp;
    h = await startAutonomyHost({
      packs: [SHORT],
      installEchoNotes: false,
      logDestination: {
        write: (line: string) => {
          logLines.push(line);
        },
      },
      transcript: {
        entries: [
          callEntry('c1', 'leaky__echoBack', ENCODED),
          callEntry('c2', 'leaky__logBack', ENCODED),
          callEntry('c3', 'leaky__throwBack', ENCODED),
          callEntry('c4', 'leaky__stash', { key: 'plain', value: CANARY }),
          callEntry('c5', 'leaky__stash', { key: 'encoded', value: ENCODED.base64_1 }),
          doneEntry(`Done with ${CANARY}.`),
        ],
      },
    });
    for (const [name, value] of [
      ['CANARY_TOKEN', CANARY],
      ['CANARY_URLISH', CANARY_URLISH],
    ] as const) {
      expect((await api('PUT', `/v1/secrets/${name}`, { value })).status).toBe(200);
    }
    offerCanaryAsCorrelationId = true;
    const folder = await writeSkillFolder(SKILL, LEAKY_CODE);
    try {
      expect((await api('POST', '/v1/skills', { path: folder.dir })).status).toBe(201);
    } finally {
      await folder.cleanup();
    }
    const created = await api(
      'POST',
      '/v1/runs',
      { goal: `use ${CANARY} to finish`, policy_pack: 'short' },
      { 'idempotency-key': CANARY },
    );
    expect(created.status).toBe(201);
    run = created.body as Run;
    await h.settle(run.id, RUN_TIMEOUT_MS);
    // The same key again: found by its hash, so the first run comes back.
    const again = await api(
      'POST',
      '/v1/runs',
      { goal: `use ${CANARY} to finish`, policy_pack: 'short' },
      { 'idempotency-key': CANARY },
    );
    expect(again).toMatchObject({ status: 200, body: { id: run.id } });
    for (const urlPath of [
      `/v1/runs/${run.id}`,
      `/v1/runs/${run.id}/steps`,
      `/v1/runs/${run.id}/chain?limit=1000`,
      '/v1/chain?limit=1000',
      '/v1/approvals',
      '/v1/skills',
      '/v1/secrets',
    ]) {
      expect((await api('GET', urlPath)).status, urlPath).toBe(200);
    }
  }, 3 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    await h.stop();
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    await rm(tmp, { recursive: true, force: true });
  });

  it('the secret really went everywhere it could (the test is not vacuous)', async () => {
    const steps = (await rawSql(
      h.started.store.file,
      'select step_id, outcome from steps where run_id = ? and outcome like ? order by started_at',
      [run.id, 'error:%'],
    )) as { outcome: string }[];
    // throwBack failed with the secret in its message; governed memory refused both writes,
    // each on the chain under the constitution's rule (issue 22).
    expect(steps.map((s) => s.outcome)).toEqual([
      'error:SKILL_ERROR',
      'error:MEMORY_DENIED',
      'error:MEMORY_DENIED',
    ]);
    const refusals = (await h.runChain(run.id, 'policy.decision')).filter(
      (e) => e.rule_id === 'constitution.no_secret_in_memory',
    );
    expect(refusals).toHaveLength(2);
    const checkpoints = await rawSql(h.started.store.file, 'select id from checkpoints');
    expect(checkpoints.length).toBeGreaterThan(1);
    expect(logLines.some((l) => l.includes('base64_1 = '))).toBe(true);
  });

  it('keeps each LLM call’s prompt and answer as payloads the chain names by digest (#15)', async () => {
    const calls = await h.runChain(run.id, 'llm.call');
    expect(calls.length).toBeGreaterThanOrEqual(6);
    const { items } = await h.started.payloads.transcript(run.id, { limit: 1000 });
    for (const entry of calls) {
      for (const [field, kind] of [
        ['prompt', 'llm.prompt'],
        ['answer', 'llm.answer'],
      ] as const) {
        const ref = entry.data[field] as { digest: string };
        const item = items.find((i) => i.step_id === entry.step_id && i.kind === kind);
        expect(item?.digest, `${entry.step_id} ${kind}`).toBe(ref.digest);
      }
      // The chain holds the digests, not the conversation.
      expect(JSON.stringify(entry.data)).not.toContain('messages');
    }
    // The answer that called a tool with the canary's encoded copies is there, redacted.
    const answers = items
      .filter((i) => i.kind === 'llm.answer')
      .map((i) => JSON.stringify(i.content));
    expect(
      answers.some((a) => a.includes('leaky__echoBack') && a.includes('[REDACTED:secret]')),
    ).toBe(true);
  });

  it('refuses to store a known secret in memory at all', async () => {
    expect(await rawSql(h.started.store.file, 'select key from memory')).toEqual([]);
  });

  it('keeps a caller’s correlation id and idempotency key only when they hold no secret', async () => {
    const chain = (await rawSql(
      h.started.store.file,
      'select distinct correlation_id from chain where correlation_id is not null',
    )) as { correlation_id: string }[];
    expect(chain.length).toBeGreaterThan(0);
    for (const row of chain) expect(row.correlation_id).not.toContain('canary');
    const keys = (await rawSql(h.started.store.file, 'select key from idempotency_keys')) as {
      key: string;
    }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]?.key).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('no answer of the API holds it in any form', () => {
    const hits = answers.flatMap((a) => leaksIn(Buffer.from(a)));
    expect(hits).toEqual([]);
  });

  it('no log line holds it in any form', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.flatMap((l) => leaksIn(Buffer.from(l)))).toEqual([]);
  });

  it('no file in the data dir (database, WAL, SHM) or in any temp dir holds it in any form', async () => {
    // WAL and SHM as the host left them while running, then the files after a clean stop.
    const transcriptDir = path.dirname(h.transcriptFile);
    const searched: string[] = [];
    const hits: string[] = [];
    for (const file of await filesUnder(tmp)) {
      // The transcript stands in for the LLM provider, a service off this machine.
      if (file.startsWith(transcriptDir)) continue;
      searched.push(path.relative(tmp, file));
      const bytes = await readFile(file).catch(() => Buffer.alloc(0));
      hits.push(...leaksIn(bytes).map((hit) => `${path.relative(tmp, file)}: ${hit}`));
    }
    expect(searched).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ccos\.sqlite$/),
        expect.stringMatching(/ccos\.sqlite-wal$/),
        expect.stringMatching(/ccos\.sqlite-shm$/),
      ]),
    );
    expect(hits).toEqual([]);
  });
});
