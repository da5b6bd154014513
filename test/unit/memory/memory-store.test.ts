import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { MemoryAudience } from '../../../contracts/memory.ts';
import { isAppError } from '../../../main/errors.ts';
import { NO_RUN_AUDIENCE, type AudienceContext } from '../../../main/memory/memory-audience.ts';
import {
  MemoryStore,
  type MemoryReader,
  type MemoryWrite,
} from '../../../main/memory/memory-store.ts';
import { join, label, PUBLIC, UNKNOWN } from '../../../main/policy/labels.ts';
import { Redactor } from '../../../main/policy/redactor.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { manualClock, openTestServices, type TestServices } from '../../support/test-store.ts';

const CANARY = `canary${randomBytes(16).toString('hex')}`;
const EVERYTHING = join(UNKNOWN, label(['internal.system', 'pii.redacted']));

const inRun = (run: string, session: string): AudienceContext => ({
  ...NO_RUN_AUDIENCE,
  run_id: run,
  session_id: session,
});

function write(overrides: Partial<MemoryWrite>): MemoryWrite {
  return {
    namespace: 'shared:facts',
    key: 'k',
    value: 'v',
    label: PUBLIC,
    taint: 'trusted',
    source: { kind: 'agent', id: 'run_a', version: null },
    run_id: 'run_a',
    step_id: null,
    session_id: 'ses_a',
    audience: 'session',
    audience_id: 'ses_a',
    expires_at: null,
    ...overrides,
  };
}

describe('MemoryStore: governed reads and writes', () => {
  let services: TestServices;
  let store: MemoryStore;
  const clock = manualClock('2026-06-01T00:00:00.000Z');
  const redactor = new Redactor();
  redactor.addKnownValue(CANARY);

  beforeAll(async () => {
    services = await openTestServices();
    store = new MemoryStore({ db: services.store.db, clock, redactor });
  });
  afterAll(async () => {
    await services.close();
  });

  const reader = (audience: AudienceContext, clearance = EVERYTHING): MemoryReader => ({
    audience,
    clearance,
    audit: { actor: 'test-reader', run_id: null, data: { reader: 'test' } },
  });
  const put = (w: MemoryWrite) =>
    services.chain.transact((tx) => store.writeIn(tx, w, { actor: 'test-writer' }));
  const get = (r: MemoryReader, namespace: string, key: string) =>
    services.chain.transact((tx) => store.readIn(tx, r, namespace, key));
  const decisions = async (): Promise<ChainEntry[]> =>
    (await services.chain.query({ after_seq: 0, limit: 1000 })).entries.filter(
      (e) => e.event_type === 'policy.decision',
    );

  it('records a write as memory.write with label, taint and audience, never the value', async () => {
    const outcome = await put(write({ key: 'w1', value: 'private fact w1' }));
    expect(outcome.ok).toBe(true);
    const entries = (await services.chain.query({ after_seq: 0, limit: 1000 })).entries;
    const entry = entries.find((e) => e.event_type === 'memory.write' && e.data.key === 'w1');
    expect(entry?.data).toMatchObject({
      namespace: 'shared:facts',
      label: 'public',
      taint: 'trusted',
      audience: 'session',
    });
    expect(JSON.stringify(entries)).not.toContain('private fact w1');
  });

  it('refuses a value labelled secret.token, and a canary pasted under any label, with the constitution rule', async () => {
    for (const [key, w] of [
      ['by_label', write({ key: 'by_label', value: 'x', label: label('secret.token') })],
      ['by_value', write({ key: 'by_value', value: { note: `the key is ${CANARY}` } })],
      ['encoded', write({ key: 'encoded', value: Buffer.from(CANARY).toString('base64') })],
      ['nested', write({ key: 'nested', value: { a: [{ [`k${CANARY}`]: 1 }] } })],
      ['in_key', write({ key: `k${CANARY}`, value: 'x' })],
    ] as const) {
      const outcome = await put(w);
      expect(outcome.ok, key).toBe(false);
      if (!outcome.ok) {
        expect(isAppError(outcome.error, 'MEMORY_DENIED')).toBe(true);
        expect(outcome.error.details).toEqual({ rule_id: 'constitution.no_secret_in_memory' });
      }
    }
    const refused = (await decisions()).filter(
      (e) => e.rule_id === 'constitution.no_secret_in_memory',
    );
    expect(refused).toHaveLength(5);
    const rows = await rawSql(services.store.file, 'select * from memory');
    expect(JSON.stringify(rows)).not.toContain(CANARY);
    expect(JSON.stringify(rows)).not.toContain(Buffer.from(CANARY).toString('base64'));
    expect(JSON.stringify(refused)).not.toContain(CANARY);
  });

  it('shows a session item to runs of that session only; another session reads it as absent, audited', async () => {
    await put(write({ key: 'diagnosis', value: 'private A' }));
    const own = await get(reader(inRun('run_a2', 'ses_a')), 'shared:facts', 'diagnosis');
    expect(own?.value).toBe('private A');
    const before = (await decisions()).length;
    const other = await get(reader(inRun('run_b', 'ses_b')), 'shared:facts', 'diagnosis');
    expect(other).toBeUndefined();
    const denial = (await decisions()).slice(before);
    expect(denial).toHaveLength(1);
    expect(denial[0]).toMatchObject({ rule_id: 'memory.audience', data: { decision: 'withheld' } });
    expect(JSON.stringify(denial)).not.toContain('private A');
    // Nor through a listing.
    const listed = await services.chain.transact((tx) =>
      store.listIn(tx, reader(inRun('run_b', 'ses_b')), 'shared:facts'),
    );
    expect(listed.map((r) => r.key)).not.toContain('diagnosis');
  });

  it('keeps one item per audience: another session writing the same key neither overwrites nor reveals', async () => {
    await put(write({ key: 'plan', value: 'A plan' }));
    await put(
      write({
        key: 'plan',
        value: 'B plan',
        run_id: 'run_b',
        session_id: 'ses_b',
        audience_id: 'ses_b',
      }),
    );
    expect((await get(reader(inRun('run_a', 'ses_a')), 'shared:facts', 'plan'))?.value).toBe(
      'A plan',
    );
    expect((await get(reader(inRun('run_b', 'ses_b')), 'shared:facts', 'plan'))?.value).toBe(
      'B plan',
    );
  });

  it.each([
    ['run', 'run_a', inRun('run_other', 'ses_a')],
    ['schedule', 'sch_1', { ...inRun('run_a', 'ses_a'), schedule_id: 'sch_2' }],
    ['connector', 'con_1', { ...inRun('run_a', 'ses_a'), connector_id: 'con_2' }],
    ['ui_only', '', inRun('run_a', 'ses_a')],
  ] as [MemoryAudience, string, AudienceContext][])(
    'a %s item is hidden from a reader outside it',
    async (audience, id, outside) => {
      const key = `aud_${audience}`;
      await put(write({ key, audience, audience_id: id }));
      expect(await get(reader(outside), 'shared:facts', key)).toBeUndefined();
      const inside =
        audience === 'ui_only'
          ? { ...NO_RUN_AUDIENCE, ui: true }
          : {
              ...inRun(audience === 'run' ? id : 'run_x', 'ses_a'),
              schedule_id: audience === 'schedule' ? id : null,
              connector_id: audience === 'connector' ? id : null,
            };
      expect((await get(reader(inside), 'shared:facts', key))?.value).toBe('v');
    },
  );

  it('withholds an item above the reader clearance with memory.label', async () => {
    await put(write({ key: 'chat', value: 'hello', label: label('pii.chat.message') }));
    const before = (await decisions()).length;
    expect(
      await get(reader(inRun('run_a', 'ses_a'), PUBLIC), 'shared:facts', 'chat'),
    ).toBeUndefined();
    expect((await decisions()).slice(before)).toMatchObject([{ rule_id: 'memory.label' }]);
    expect((await get(reader(inRun('run_a', 'ses_a')), 'shared:facts', 'chat'))?.value).toBe(
      'hello',
    );
  });

  it('never returns an expired item, to any reader', async () => {
    await put(write({ key: 'soon', expires_at: '2026-06-01T00:00:10.000Z' }));
    const r = reader(inRun('run_a', 'ses_a'));
    expect((await get(r, 'shared:facts', 'soon'))?.value).toBe('v');
    clock.advance(10_000);
    expect(await get(r, 'shared:facts', 'soon')).toBeUndefined();
    const listed = await services.chain.transact((tx) => store.listIn(tx, r, 'shared:facts'));
    expect(listed.map((x) => x.key)).not.toContain('soon');
  });
});
