import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { PurgeResult, Transcript } from '../../../contracts/payloads.ts';
import type { Run } from '../../../contracts/runs.ts';
import { canonicalJson } from '../../../main/chain/canonical-json.ts';
import { callStepId } from '../../../main/supervisor/run-segment.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { AGENT, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const TOOL = 'diary__write';
const SKILL = manifest('diary', [operation('write')]);
const CODE = `export async function write(input) {
  return { stored: input.entry, echo: 'said: ' + input.entry };
}`;

/** Personal data an agent hands a skill: it must not live forever in the chain. */
const marker = (): string => `diary-${randomBytes(12).toString('hex')}`;

/** Whether the database file or its WAL holds `text`. */
async function onDisk(h: ExecuteTestHost, text: string): Promise<boolean> {
  for (const file of [h.databaseFile, `${h.databaseFile}-wal`]) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    if (bytes.includes(Buffer.from(text))) return true;
  }
  return false;
}

/** Issue 17 #15: the chain keeps digests, sizes and labels; payloads are purgeable. */
describe('payloads: content off the chain, proven by digest, purgeable once a run ends', () => {
  let h: ExecuteTestHost;

  const call = (
    run: Run,
    callId: string,
    params: Record<string, unknown>,
  ): Promise<ToolCallOutcome> =>
    h.started.pipeline.execute({
      run,
      step_id: callStepId(run.id, callId),
      call_id: callId,
      segment: 0,
      tool: TOOL,
      params,
      ctx: AGENT,
    });
  const transcript = async (runId: string): Promise<Transcript> => {
    const res = await h.request('GET', `/v1/runs/${runId}/transcript`);
    expect(res.status, res.text).toBe(200);
    return res.body as Transcript;
  };

  beforeAll(async () => {
    h = await startExecuteHost();
    await h.install(SKILL, CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('the chain names input and outcome by digest, size and label; the transcript holds them', async () => {
    const run = await h.runningRun();
    const secretish = marker();
    const outcome = await call(run, 'call_1', { entry: secretish });
    expect(outcome).toEqual({
      status: 'ok',
      output: { stored: secretish, echo: `said: ${secretish}` },
    });
    const entry = await h.executeEntry(run.id, callStepId(run.id, 'call_1'));
    expect(JSON.stringify(entry)).not.toContain(secretish);
    const ref = {
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      label: 'pii.chat.message',
    };
    expect(entry.data).toMatchObject({ tool: TOOL, outcome: 'ok', input: ref, result: ref });

    const { items } = await transcript(run.id);
    expect(items.map((i) => [i.kind, i.subject])).toEqual([
      ['tool.input', TOOL],
      ['tool.outcome', TOOL],
    ]);
    expect(items[0]?.content).toEqual({ entry: secretish });
    expect(items[1]?.content).toEqual(outcome);
    // The digest proves the content: anyone can recompute it from the transcript.
    for (const [item, named] of [
      [items[0], entry.data.input],
      [items[1], entry.data.result],
    ] as const) {
      const text = canonicalJson(item?.content);
      expect(item?.digest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
      expect(named).toEqual({
        digest: item?.digest,
        bytes: Buffer.byteLength(text),
        label: item?.label,
      });
    }
  });

  it('a re-issued call is answered from the payload, and only if it still matches its digest', async () => {
    const run = await h.runningRun();
    const params = { entry: marker() };
    const first = await call(run, 'call_2', params);
    expect(await call(run, 'call_2', params)).toEqual(first);
    // Someone edits the recorded outcome behind the host's back: it no longer proves itself,
    // so the re-issue is refused rather than answered with what was never recorded.
    await rawSql(
      h.databaseFile,
      `update payloads set content = '{"status":"ok","output":{"forged":true}}'
       where run_id = ? and kind = 'tool.outcome'`,
      [run.id],
    );
    const forged = await call(run, 'call_2', params);
    expect(forged).toMatchObject({ status: 'error', code: 'CALL_OUTCOME_UNKNOWN' });
  });

  it('refuses to purge a run that can still go on, purges an ended one, and keeps the digests', async () => {
    const run = await h.runningRun();
    const secretish = marker();
    await call(run, 'call_3', { entry: secretish });
    expect(await onDisk(h, secretish)).toBe(true);

    const refused = await h.request('DELETE', `/v1/runs/${run.id}/payloads`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'CONFLICT' } });
    expect((await transcript(run.id)).items.every((i) => i.content !== null)).toBe(true);

    expect((await h.request('POST', `/v1/runs/${run.id}/cancel`)).status).toBe(200);
    const purged = await h.request('DELETE', `/v1/runs/${run.id}/payloads`);
    expect(purged.status, purged.text).toBe(200);
    expect(purged.body).toMatchObject({ run_id: run.id, purged: 2 } satisfies Partial<PurgeResult>);
    const after = await transcript(run.id);
    expect(after.items).toHaveLength(2);
    for (const item of after.items) {
      expect(item).toMatchObject({ content: null, purged_at: expect.any(String) as unknown });
      expect(item.digest).toMatch(/^sha256:/);
    }
    const entries = (await h.chain('payloads.purged')).filter((e) => e.run_id === run.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.data).toMatchObject({ purged: 2 });
    // Gone from the database file and its WAL, and from the step's summary.
    expect(await onDisk(h, secretish)).toBe(false);
    const steps = (await rawSql(h.databaseFile, 'select summary from steps where run_id = ?', [
      run.id,
    ])) as { summary: string }[];
    expect(steps.map((s) => s.summary)).toEqual([TOOL]);
    // Twice is harmless.
    expect((await h.request('DELETE', `/v1/runs/${run.id}/payloads`)).body).toMatchObject({
      purged: 0,
    });
    const verify = await h.request('GET', '/v1/chain/verify');
    expect(verify.body).toMatchObject({ ok: true });
  });

  it('transcript and purge are admin-only and name unknown runs', async () => {
    const run = await h.runningRun();
    const connector = await h.connector('ci', ['runs:read', 'runs:create']);
    for (const [method, path] of [
      ['GET', `/v1/runs/${run.id}/transcript`],
      ['DELETE', `/v1/runs/${run.id}/payloads`],
    ] as const) {
      expect((await h.request(method, path, { token: connector.token })).status).toBe(403);
    }
    const missing = `run_${'0'.repeat(32)}`;
    expect((await h.request('GET', `/v1/runs/${missing}/transcript`)).status).toBe(404);
    expect((await h.request('DELETE', `/v1/runs/${missing}/payloads`)).status).toBe(404);
  });
});
