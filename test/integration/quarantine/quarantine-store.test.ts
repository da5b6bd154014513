import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry, ChainEventType } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { QUARANTINE_KEY_FILE } from '../../../main/data-dir-files.ts';
import { isAppError } from '../../../main/errors.ts';
import { label, UNKNOWN } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import type {
  Dereferenced,
  DereferenceRefusal,
  QuarantineStore,
} from '../../../main/quarantine/quarantine-store.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import {
  makeTempDir,
  manualClock,
  openTestServices,
  removeTempDir,
  type ManualClock,
  type TestServices,
} from '../../support/test-store.ts';

const HOUR = 60 * 60 * 1000;
const ADMIN = { actor: 'admin' };
const CONNECTOR = { actor: 'connector:test' };
/** A pack whose channel `fast` keeps content one hour, others two. */
const TTL_PACK = {
  ...DEFAULT_POLICY_PACK,
  id: 'ttl',
  quarantine: { ttl_ms: 2 * HOUR, channel_ttl_ms: { fast: HOUR } },
};

let dataDir: string;
let clock: ManualClock;
let t: TestServices;
let quarantine: QuarantineStore;

/** A unique raw message and sender: if either shows up anywhere, it leaked. */
function canaryMessage(): { text: string; sender: string } {
  const tag = randomBytes(8).toString('hex');
  return {
    text: `meet me behind the old mill at nine, the code word is parsnip-${tag}`,
    sender: `sender-${tag}@chat.example`,
  };
}

async function newRun(): Promise<Run> {
  return t.runs.create({ goal: 'read my messages' }, ADMIN);
}

async function entries(type: ChainEventType): Promise<ChainEntry[]> {
  return (await t.chain.query({ event_type: type, limit: 1000 })).entries;
}

/** Every byte of every file in the data dir (database, WAL, keys, logs), as latin1 text. */
async function dataDirBytes(): Promise<string> {
  const names = await readdir(dataDir, { recursive: true });
  const parts: string[] = [];
  for (const name of names) {
    const file = path.join(dataDir, name);
    if ((await stat(file)).isFile()) parts.push((await readFile(file)).toString('latin1'));
  }
  return parts.join('\n');
}

function deref(run: Run, contentRef: string, inputLabel = UNKNOWN) {
  return t.chain.transact((tx) =>
    quarantine.dereferenceIn(tx, {
      content_ref: contentRef,
      capability_id: 'ccos.transform.test',
      capability_version: '1',
      input_label: inputLabel,
      justification: 'the person asked for a digest',
      run: run,
      step_id: 'step_1',
      ctx: { actor: 'agent:test' },
    }),
  );
}

function opened(result: Dereferenced | DereferenceRefusal): Dereferenced {
  if ('refused' in result) throw new Error(`refused: ${result.refused}`);
  return result;
}

beforeEach(async () => {
  dataDir = await makeTempDir('ccos-quarantine-');
  clock = manualClock('2026-12-03T08:00:00.000Z');
  t = await openTestServices({ dataDir, clock, policyPacks: [TTL_PACK] });
  quarantine = t.host.started.quarantine;
});

afterEach(async () => {
  await t.close();
  await removeTempDir(dataDir);
});

describe('quarantine store', () => {
  it('hands out random 128-bit pointers and keeps no plaintext anywhere in the data dir', async () => {
    const run = await newRun();
    const message = canaryMessage();
    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { content_ref } = await quarantine.ingest(
        {
          session_id: run.session_id,
          sender_id: message.sender,
          channel_id: 'c1',
          content: message.text,
        },
        CONNECTOR,
      );
      refs.push(content_ref);
    }
    for (const ref of refs) expect(ref).toMatch(/^q_[0-9a-f]{32}$/);
    expect(new Set(refs).size).toBe(refs.length);

    // Read back once, so the plaintext has existed in this process as a transform sees it.
    expect(opened(await deref(run, refs[0] ?? '')).content).toBe(message.text);
    const bytes = await dataDirBytes();
    // The scan sees what is stored in the clear (the run's goal): a positive control.
    expect(bytes.includes('read my messages')).toBe(true);
    expect(bytes.includes(message.text)).toBe(false);
    expect(bytes.includes('parsnip')).toBe(false);
    expect(bytes.includes(message.sender)).toBe(false);
    const chain = JSON.stringify((await t.chain.query({ limit: 1000 })).entries);
    expect(chain.includes('parsnip')).toBe(false);
    expect(chain.includes(message.sender)).toBe(false);
  });

  it('creates its key owner-only on first use and refuses to start without it once content exists', async () => {
    const keyFile = path.join(dataDir, QUARANTINE_KEY_FILE);
    if (process.platform !== 'win32') expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const run = await newRun();
    await quarantine.ingest(
      { session_id: run.session_id, sender_id: 's', channel_id: 'c1', content: 'hello' },
      CONNECTOR,
    );
    await t.host.stop();
    await rm(keyFile);
    const error: unknown = await openTestServices({ dataDir, clock }).catch((e: unknown) => e);
    expect(isAppError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toContain(QUARANTINE_KEY_FILE);
  });

  it('binds a ciphertext to its pointer: a blob copied into another row does not open', async () => {
    const run = await newRun();
    const a = await quarantine.ingest(
      { session_id: run.session_id, sender_id: 's', channel_id: 'c1', content: 'first message' },
      CONNECTOR,
    );
    const b = await quarantine.ingest(
      { session_id: run.session_id, sender_id: 's', channel_id: 'c1', content: 'second message' },
      CONNECTOR,
    );
    await t.host.stop();
    const file = path.join(dataDir, 'ccos.sqlite');
    await rawSql(
      file,
      `update quarantine set (nonce, tag, ciphertext) =
        (select nonce, tag, ciphertext from quarantine where pointer = ?) where pointer = ?`,
      [a.content_ref, b.content_ref],
    );
    t = await openTestServices({ dataDir, clock });
    quarantine = t.host.started.quarantine;
    await expect(deref(run, b.content_ref)).rejects.toThrow(/authenticate/);
    expect(opened(await deref(run, a.content_ref)).content).toBe('first message');
  });

  it('records every read as quarantine.access with capability, justification and labels, never content', async () => {
    const run = await newRun();
    const message = canaryMessage();
    const { content_ref } = await quarantine.ingest(
      {
        session_id: run.session_id,
        sender_id: message.sender,
        channel_id: 'c1',
        content: message.text,
      },
      CONNECTOR,
    );
    const got = opened(await deref(run, content_ref));
    expect(got).toMatchObject({ sender_id: message.sender, channel_id: 'c1' });
    expect(got.label).toEqual(label('pii.chat.message'));
    const [access] = await entries('quarantine.access');
    expect(access).toMatchObject({
      run_id: run.id,
      session_id: run.session_id,
      capability_id: 'ccos.transform.test',
      capability_version: '1',
      data: {
        content_ref,
        justification: 'the person asked for a digest',
        declared_input_label: 'pii.chat.message+pii.chat.metadata+pii.attachment',
        label: 'pii.chat.message',
      },
    });
    const [ingest] = await entries('message.ingest');
    expect(ingest).toMatchObject({
      session_id: run.session_id,
      data: { content_ref, channel_id: 'c1', label: 'pii.chat.message' },
    });
  });

  it('refuses a pointer from another session, and a label the capability does not take, on the chain', async () => {
    const owner = await newRun();
    const other = await newRun();
    const { content_ref } = await quarantine.ingest(
      { session_id: owner.session_id, sender_id: 's', channel_id: 'c1', content: 'private' },
      CONNECTOR,
    );
    expect(await deref(other, content_ref)).toMatchObject({
      rule_id: 'quarantine.session_binding',
    });
    const secret = await quarantine.ingest(
      {
        session_id: owner.session_id,
        sender_id: 's',
        channel_id: 'c1',
        content: 'tok',
        label: 'secret.token',
      },
      CONNECTOR,
    );
    expect(await deref(owner, secret.content_ref)).toMatchObject({
      rule_id: 'quarantine.input_label',
    });
    const denials = await entries('policy.decision');
    expect(denials.map((d) => [d.run_id, d.rule_id, d.data.content_ref])).toEqual([
      [other.id, 'quarantine.session_binding', content_ref],
      [owner.id, 'quarantine.input_label', secret.content_ref],
    ]);
    expect(await entries('quarantine.access')).toEqual([]);
  });

  it('purges per session and per sender, audited, and the pointers are gone after', async () => {
    const a = await newRun();
    const b = await newRun();
    const put = (run: Run, sender: string) =>
      quarantine.ingest(
        {
          session_id: run.session_id,
          sender_id: sender,
          channel_id: 'c1',
          content: `from ${sender}`,
        },
        CONNECTOR,
      );
    const a1 = await put(a, 'alice');
    const a2 = await put(a, 'bob');
    const b1 = await put(b, 'bob');
    const b2 = await put(b, 'carol');

    expect(await quarantine.purge({ by: 'session', session_id: a.session_id }, ADMIN)).toEqual({
      purged: 2,
    });
    expect(await deref(a, a1.content_ref)).toMatchObject({ rule_id: 'quarantine.unknown_pointer' });
    expect(await deref(a, a2.content_ref)).toMatchObject({ rule_id: 'quarantine.unknown_pointer' });

    expect(await quarantine.purge({ by: 'sender', sender_id: 'bob' }, ADMIN)).toEqual({
      purged: 1,
    });
    expect(await deref(b, b1.content_ref)).toMatchObject({ rule_id: 'quarantine.unknown_pointer' });
    expect(opened(await deref(b, b2.content_ref)).content).toBe('from carol');

    const purged = await entries('quarantine.purged');
    expect(purged.map((e) => [e.session_id, e.actor, e.data.reason, e.data.content_refs])).toEqual([
      [a.session_id, 'admin', 'session', [a1.content_ref, a2.content_ref]],
      [b.session_id, 'admin', 'sender', [b1.content_ref]],
    ]);
    // The sender is personal metadata: the purge names pointers, never who sent them.
    expect(JSON.stringify(purged).includes('bob')).toBe(false);
  });

  it('expires content at its channel TTL, to the instant, and the sweep deletes it on the chain', async () => {
    const run = await t.runs.create({ goal: 'g', policy_pack: 'ttl' }, ADMIN);
    const put = (channel: string) =>
      quarantine.ingest(
        {
          session_id: run.session_id,
          sender_id: 's',
          channel_id: channel,
          content: 'short-lived',
          policy_pack: 'ttl',
        },
        CONNECTOR,
      );
    const fast = await put('fast');
    const slow = await put('slow');
    expect(fast.expires_at).toBe('2026-12-03T09:00:00.000Z');
    expect(slow.expires_at).toBe('2026-12-03T10:00:00.000Z');

    clock.advance(HOUR - 1);
    expect(opened(await deref(run, fast.content_ref)).content).toBe('short-lived');
    clock.advance(1);
    // Not swept yet, and already refused: the TTL does not wait for the sweep.
    expect(await deref(run, fast.content_ref)).toMatchObject({ rule_id: 'quarantine.ttl' });
    expect(await quarantine.sweepExpired({ actor: 'host' })).toEqual({ purged: 1 });
    const rows = await t.store.db.selectFrom('quarantine').select('pointer').execute();
    expect(rows.map((r) => r.pointer)).toEqual([slow.content_ref]);
    const [swept] = await entries('quarantine.purged');
    expect(swept).toMatchObject({
      session_id: run.session_id,
      actor: 'host',
      data: { reason: 'ttl', content_refs: [fast.content_ref] },
    });
  });

  it('refuses an ingest for an unknown session, or a bad one, without quoting the content', async () => {
    const unknown: unknown = await quarantine
      .ingest({ session_id: 'ses_nope', sender_id: 's', channel_id: 'c', content: 'x' }, CONNECTOR)
      .catch((e: unknown) => e);
    expect(isAppError(unknown, 'NOT_FOUND')).toBe(true);
    const run = await newRun();
    const bad: unknown = await quarantine
      .ingest(
        {
          session_id: run.session_id,
          sender_id: 's',
          channel_id: 'c',
          content: 'zucchini',
          label: 'loud',
        },
        CONNECTOR,
      )
      .catch((e: unknown) => e);
    expect(isAppError(bad, 'INVALID_INPUT')).toBe(true);
    expect(JSON.stringify(bad) + String(bad)).not.toContain('zucchini');
  });
});
