import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chainExportLineSchema,
  type ChainEntry,
  type ChainExportLine,
  type SignedHead,
} from '../../../contracts/chain.ts';
import { hashEntry } from '../../../main/chain/chain-hash.ts';
import { CHAIN_HEADS_FILE, CHAIN_PUBLIC_KEY_FILE } from '../../../main/data-dir-files.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { runCli, type CliResult } from '../gateway/helpers/run-cli.ts';

type Row = ChainEntry & { data: string };

/** Rewrites entry `seq`'s data and re-hashes it and every later entry, so every link holds. */
function rewriteAndRehash(entries: ChainEntry[], seq: number): ChainEntry[] {
  const out: ChainEntry[] = [];
  let prev = entries.find((e) => e.seq === seq - 1)?.hash ?? '0'.repeat(64);
  for (const e of entries) {
    if (e.seq < seq) {
      out.push(e);
      continue;
    }
    const changed = e.seq === seq ? { ...e, data: { ...e.data, rewritten: true } } : e;
    // Everything but the old hash, linked to the (new) previous one.
    const { hash: replaced, ...rest } = { ...changed, prev_hash: prev };
    expect(replaced).toMatch(/^[0-9a-f]{64}$/);
    const hash = hashEntry(rest);
    out.push({ ...rest, hash });
    prev = hash;
  }
  return out;
}

/** The same re-hash, done in the database file behind the host's back. */
async function rehashDatabase(file: string, fromSeq: number): Promise<void> {
  const rows = (await rawSql(file, 'select * from chain order by seq')) as Row[];
  const entries = rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
  for (const e of rewriteAndRehash(entries, fromSeq).filter((x) => x.seq >= fromSeq)) {
    await rawSql(file, 'update chain set data = ?, prev_hash = ?, hash = ? where seq = ?', [
      JSON.stringify(e.data),
      e.prev_hash,
      e.hash,
      e.seq,
    ]);
  }
}

function parseExport(text: string): ChainExportLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => chainExportLineSchema.parse(JSON.parse(l)));
}

/** Issue 17 #33 (and #23: `chain verify` exits 1 on a tampered database, as a child process). */
describe('signed chain heads: re-hashing and truncation are caught, online and offline', () => {
  let gw: GatewayTestHost;
  let scratch: string;
  const ccos = (...args: string[]): Promise<CliResult> =>
    runCli(['--data-dir', gw.dataDir, ...args]);
  const exportTo = async (name: string): Promise<string> => {
    const file = path.join(scratch, name);
    const res = await ccos('chain', 'export', '--out', file);
    expect(res.code, res.stderr).toBe(0);
    return file;
  };
  const verifyFile = (file: string, ...more: string[]): Promise<CliResult> =>
    ccos('--json', 'chain', 'verify', '--file', file, ...more);
  beforeAll(async () => {
    gw = await startGatewayHost();
    scratch = gw.dataDir;
    for (let i = 0; i < 5; i++) {
      const res = await gw.request('POST', '/v1/runs', { json: { goal: `goal ${i}` } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('an export verifies offline, with the key pinned or not, and ends at a head signed as it was made', async () => {
    const file = await exportTo('good.ndjson');
    const lines = parseExport(await readFile(file, 'utf8'));
    const entries = lines.flatMap((l) => ('entry' in l ? [l.entry] : []));
    const heads = lines.flatMap((l) => ('head' in l ? [l.head] : []));
    expect(entries.length).toBeGreaterThan(5);
    expect(heads.at(-1)).toMatchObject({ seq: entries.at(-1)?.seq, hash: entries.at(-1)?.hash });

    const unpinned = await verifyFile(file);
    expect(unpinned.code, unpinned.stderr).toBe(0);
    expect(JSON.parse(unpinned.stdout)).toMatchObject({ ok: true, key_pinned: false });
    const pinned = await verifyFile(
      file,
      '--public-key',
      path.join(gw.dataDir, CHAIN_PUBLIC_KEY_FILE),
    );
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, key_pinned: true });
    const text = await ccos('chain', 'verify', '--file', file);
    expect(text.stdout).toMatch(/^chain ok: \d+ entries/);
  });

  it('an export re-hashed after a rewrite keeps every hash link, and fails on its signed heads', async () => {
    const file = await exportTo('rehashed.ndjson');
    const lines = parseExport(await readFile(file, 'utf8'));
    const entries = lines.flatMap((l) => ('entry' in l ? [l.entry] : []));
    const target = entries[2]?.seq ?? 3;
    const forged = rewriteAndRehash(entries, target);
    // The forgery is a perfect hash chain: links and hashes alone cannot tell.
    for (const [i, e] of forged.entries()) {
      expect(e.prev_hash).toBe(i === 0 ? '0'.repeat(64) : forged[i - 1]?.hash);
      const { hash, ...rest } = e;
      expect(hashEntry(rest)).toBe(hash);
    }
    const tampered = lines.map((l) =>
      'entry' in l ? { entry: forged.find((e) => e.seq === l.entry.seq) } : l,
    );
    const out = path.join(scratch, 'rehashed-forged.ndjson');
    await writeFile(out, tampered.map((l) => JSON.stringify(l)).join('\n'));
    const res = await verifyFile(out);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, reason: 'signed_head_mismatch' });
  });

  it('an export cut short, or with a head it cannot vouch for, fails', async () => {
    const file = await exportTo('cut.ndjson');
    const lines = parseExport(await readFile(file, 'utf8'));
    const lastSeq = Math.max(...lines.flatMap((l) => ('entry' in l ? [l.entry.seq] : [])));
    // The newest entries dropped, heads kept: the heads cover entries that are not there.
    const cut = lines.filter((l) => !('entry' in l) || l.entry.seq <= lastSeq - 2);
    const cutFile = path.join(scratch, 'cut-short.ndjson');
    await writeFile(cutFile, cut.map((l) => JSON.stringify(l)).join('\n'));
    const truncated = await verifyFile(cutFile);
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.stdout)).toMatchObject({ ok: false, reason: 'truncated' });

    // A head whose signature was changed.
    const forgedHead = lines.map((l): ChainExportLine => {
      if (!('head' in l)) return l;
      const head: SignedHead = { ...l.head, signature: Buffer.alloc(64, 7).toString('base64') };
      return { head };
    });
    const forgedFile = path.join(scratch, 'forged-head.ndjson');
    await writeFile(forgedFile, forgedHead.map((l) => JSON.stringify(l)).join('\n'));
    const bad = await verifyFile(forgedFile);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, reason: 'bad_signature' });

    // Pinned to another key (one made by a second host).
    const other = await startGatewayHost();
    try {
      const res = await verifyFile(
        file,
        '--public-key',
        path.join(other.dataDir, CHAIN_PUBLIC_KEY_FILE),
      );
      expect(res.code).toBe(1);
      expect(JSON.parse(res.stdout)).toMatchObject({
        ok: false,
        reason: 'bad_signature',
        key_pinned: true,
      });
    } finally {
      await other.stop();
    }
  });

  it('signs its head on stop, so a clean stop leaves every entry covered', async () => {
    await gw.host.stop();
    const rows = (await rawSql(gw.databaseFile, 'select max(seq) as seq, hash from chain')) as {
      seq: number;
      hash: string;
    }[];
    const heads = (await readFile(path.join(gw.dataDir, CHAIN_HEADS_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SignedHead);
    expect(heads.at(-1)).toMatchObject({ seq: rows[0]?.seq, hash: rows[0]?.hash });
    await gw.host.start();
  });

  it('a database rewritten and re-hashed behind the host fails `ccos chain verify`, online and exported', async () => {
    await gw.host.stop();
    await rehashDatabase(gw.databaseFile, 4);
    await gw.host.start();
    const online = await ccos('--json', 'chain', 'verify');
    expect(online.code).toBe(1);
    expect(JSON.parse(online.stdout)).toMatchObject({ ok: false, reason: 'signed_head_mismatch' });
    const human = await ccos('chain', 'verify');
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('chain BROKEN');
    const offline = await verifyFile(await exportTo('db-rehashed.ndjson'));
    expect(offline.code).toBe(1);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: false });
  });

  it('#23: an entry edited in the database (no re-hash) exits 1 from `ccos chain verify`', async () => {
    await gw.host.stop();
    await rawSql(gw.databaseFile, `update chain set actor = 'mallory' where seq = 2`);
    await gw.host.start();
    const res = await ccos('--json', 'chain', 'verify');
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ok: false,
      broken_at_seq: 2,
      reason: 'hash_mismatch',
    });
  });
});

describe('signed chain heads: truncation of the database', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
    for (let i = 0; i < 4; i++) await gw.request('POST', '/v1/runs', { json: { goal: `g${i}` } });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('the newest entries removed behind the host are caught by the heads that covered them', async () => {
    await gw.host.stop();
    const before = (await rawSql(gw.databaseFile, 'select max(seq) as n from chain')) as {
      n: number;
    }[];
    const last = before[0]?.n ?? 0;
    await rawSql(gw.databaseFile, 'delete from chain where seq > ?', [last - 3]);
    await gw.host.start();
    const res = await runCli(['--data-dir', gw.dataDir, '--json', 'chain', 'verify']);
    expect(res.code, res.stderr).toBe(1);
    // Cut short, or — if the restarted host wrote entries since — no longer what was signed.
    expect(['truncated', 'signed_head_mismatch']).toContain(
      (JSON.parse(res.stdout) as { reason: string }).reason,
    );
  });
});
