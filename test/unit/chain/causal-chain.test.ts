import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, type ChainEntry } from '../../../contracts/chain.ts';
import { canonicalJson } from '../../../main/chain/canonical-json.ts';
import type { ChainAppendInput } from '../../../main/chain/causal-chain.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import {
  manualClock,
  openTestServices,
  type ManualClock,
  type TestServices,
} from '../../support/test-store.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';

/** An entry with every optional column filled, so tampering with any column changes a value. */
function fullInput(i: number): ChainAppendInput {
  return {
    event_type: i % 2 === 0 ? 'skill.execute' : 'llm.call',
    actor: `actor-${i}`,
    data: { i, nested: { list: [i, 'x', null, true] } },
    session_id: `ses_${i}`,
    run_id: `run_${i % 3}`,
    step_id: `step_${i}`,
    correlation_id: `cor_${i}`,
    capability_id: `cap_${i}`,
    capability_version: `1.${i}.0`,
    rule_id: `rule_${i}`,
    policy_pack_version: `pp-${i}`,
  };
}

describe('CausalChain', () => {
  let services: TestServices;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = manualClock();
    services = await openTestServices({ clock });
  });
  afterEach(async () => {
    await services.close();
  });

  async function appendMany(n: number): Promise<ChainEntry[]> {
    const start = (await services.chain.verify()).entries;
    const out: ChainEntry[] = [];
    for (let i = 1; i <= n; i++) {
      clock.advance(1000);
      out.push(await services.chain.append(fullInput(start + i)));
    }
    return out;
  }

  describe('append inside the caller transaction', () => {
    it('commits the entry with the caller writes and tells listeners after the commit', async () => {
      const heard: ChainEntry[][] = [];
      services.chain.subscribe((entries) => heard.push([...entries]));
      const [a, b] = await services.chain.transact(async (tx) => {
        await sql`insert into sessions (id, origin, state, created_at) values ('ses_tx', 'ui', 'active', 'now')`.execute(
          tx.db,
        );
        const first = await tx.append({
          event_type: 'session.created',
          actor: 't',
          session_id: 'ses_tx',
        });
        const second = await tx.append({ event_type: 'auth.denied', actor: 't' });
        expect(heard).toEqual([]);
        return [first, second] as const;
      });
      expect(b.seq).toBe(a.seq + 1);
      expect(b.prev_hash).toBe(a.hash);
      expect(heard).toEqual([[a, b]]);
      const { entries } = await services.chain.query({ after_seq: a.seq - 1 });
      expect(entries).toEqual([a, b]);
    });

    it('a rolled-back transaction leaves no entry, no caller write and no listener call', async () => {
      const before = await services.chain.verify();
      let heard = 0;
      services.chain.subscribe(() => heard++);
      await expect(
        services.chain.transact(async (tx) => {
          await sql`insert into sessions (id, origin, state, created_at) values ('ses_rb', 'ui', 'active', 'now')`.execute(
            tx.db,
          );
          await tx.append({ event_type: 'session.created', actor: 't', session_id: 'ses_rb' });
          throw new Error('caller fails after appending');
        }),
      ).rejects.toThrow('caller fails after appending');
      expect(heard).toBe(0);
      expect(await services.chain.verify()).toEqual(before);
      const sessions = await services.store.db
        .selectFrom('sessions')
        .select('id')
        .where('id', '=', 'ses_rb')
        .execute();
      expect(sessions).toEqual([]);
      // The next append continues from the committed head, not the rolled-back one.
      const next = await services.chain.append({ event_type: 'auth.denied', actor: 't' });
      expect(next.seq).toBe(before.entries + 1);
      expect(await services.chain.verify()).toMatchObject({ ok: true });
    });

    it('concurrent transactions each link to the entry committed before them', async () => {
      const before = await services.chain.verify();
      // Workers that start their next transaction as soon as one settles, while the others
      // wait for the connection: a head remembered from an older commit would collide.
      const worker = async (w: number): Promise<number> => {
        let committed = 0;
        for (let i = 0; i < 6; i++) {
          const failing = (w + i) % 4 === 0;
          try {
            await services.chain.transact(async (tx) => {
              await tx.append({ event_type: 'auth.denied', actor: `w${w}-${i}` });
              // Some fail after appending: their entry and head must not count.
              if (failing) throw new Error('rolled back');
            });
            committed++;
          } catch (e) {
            if (!failing) throw e;
          }
        }
        return committed;
      };
      const counts = await Promise.all([0, 1, 2, 3, 4].map(worker));
      const total = counts.reduce((a, b) => a + b, 0);
      expect(total).toBe(22); // 30 transactions, 8 of them failing
      expect(await services.chain.verify()).toMatchObject({
        ok: true,
        entries: before.entries + total,
      });
    });

    it('a write behind its back fails the next append on seq instead of forking the chain', async () => {
      const last = await services.chain.append({ event_type: 'auth.denied', actor: 't' });
      // Another writer (which the data-dir lock keeps out of a real deployment) appends.
      await rawSql(
        services.store.file,
        `insert into chain (seq, event_id, event_type, timestamp, step_id, policy_pack_version,
          actor, data, prev_hash, hash) values (?, 'evt_stray', 'auth.denied', 'now', 's', '1',
          'stray', '{}', ?, 'stray-hash')`,
        [last.seq + 1, last.hash],
      );
      await expect(
        services.chain.append({ event_type: 'auth.denied', actor: 't' }),
      ).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
      // The failure dropped the remembered head: the next append links to the stray entry,
      // so the chain stays one line (verify reports the stray entry itself).
      const next = await services.chain.append({ event_type: 'auth.denied', actor: 't' });
      expect(next).toMatchObject({ seq: last.seq + 2, prev_hash: 'stray-hash' });
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: last.seq + 1,
        reason: 'malformed_entry',
      });
    });

    it('deferred appends are written in one statement as the transaction ends, linked and verified', async () => {
      const before = await services.chain.verify();
      const heard: ChainEntry[][] = [];
      services.chain.subscribe((entries) => heard.push([...entries]));
      const statements = services.store.statementCount();
      const appended = await services.chain.transact(
        async (tx) => {
          const out: ChainEntry[] = [];
          for (let i = 0; i < 7; i++) out.push(await tx.append(fullInput(100 + i)));
          return out;
        },
        { deferAppends: true },
      );
      // begin, the head read (unless remembered), one insert of all seven, commit.
      expect(services.store.statementCount() - statements).toBeLessThanOrEqual(4);
      expect(heard).toEqual([appended]);
      const { entries } = await services.chain.query({ after_seq: before.entries });
      expect(entries).toEqual(appended);
      expect(await services.chain.verify()).toMatchObject({
        ok: true,
        entries: before.entries + 7,
      });
    });

    it('a transaction with deferred appends refuses a chain query (it would miss them) and rolls back', async () => {
      const before = await services.chain.verify();
      await expect(
        services.chain.transact(
          async (tx) => {
            await tx.append({ event_type: 'auth.denied', actor: 't' });
            return tx.db.selectFrom('chain').select('seq').execute();
          },
          { deferAppends: true },
        ),
      ).rejects.toThrow(/deferred/);
      expect(await services.chain.verify()).toEqual(before);
      // Other tables stay readable in such a transaction.
      const ids = await services.chain.transact(
        (tx) => tx.db.selectFrom('sessions').select('id').execute(),
        { deferAppends: true },
      );
      expect(Array.isArray(ids)).toBe(true);
    });

    it('afterCommit callbacks run once the transaction committed, never after a rollback', async () => {
      const ran: string[] = [];
      await services.chain.transact(async (tx) => {
        tx.afterCommit(() => ran.push('committed'));
        await tx.append({ event_type: 'auth.denied', actor: 't' });
        expect(ran).toEqual([]);
      });
      expect(ran).toEqual(['committed']);
      await expect(
        services.chain.transact(async (tx) => {
          tx.afterCommit(() => ran.push('rolled back'));
          await tx.append({ event_type: 'auth.denied', actor: 't' });
          throw new Error('fails after registering');
        }),
      ).rejects.toThrow('fails after registering');
      expect(ran).toEqual(['committed']);
    });

    it('a throwing listener neither undoes the commit nor silences other listeners', async () => {
      let heard = 0;
      services.chain.subscribe(() => {
        throw new Error('listener bug');
      });
      const sub = services.chain.subscribe(() => heard++);
      const entry = await services.chain.append({ event_type: 'auth.denied', actor: 't' });
      expect(heard).toBe(1);
      await sub.dispose();
      await services.chain.append({ event_type: 'auth.denied', actor: 't' });
      expect(heard).toBe(1);
      expect((await services.chain.query({ after_seq: entry.seq - 1, limit: 1 })).entries).toEqual([
        entry,
      ]);
    });
  });

  it('links each entry to the previous by sha256(prev_hash + canonical JSON without hash)', async () => {
    await appendMany(5);
    const { entries } = await services.chain.query({ limit: 1000 });
    expect(entries[0]?.prev_hash).toBe(GENESIS_HASH);
    let prev = GENESIS_HASH;
    entries.forEach((entry, i) => {
      const { hash, ...unhashed } = entry;
      expect(entry.seq).toBe(i + 1);
      expect(entry.prev_hash).toBe(prev);
      const expected = createHash('sha256')
        .update(prev + canonicalJson(unhashed))
        .digest('hex');
      expect(hash).toBe(expected);
      prev = hash;
    });
    expect(await services.chain.verify()).toEqual({
      ok: true,
      entries: entries.length,
      head: prev,
    });
  });

  it('refuses a policy.decision that names no rule, and writes nothing', async () => {
    const before = (await services.chain.query({})).entries.length;
    await expect(
      services.chain.append({ event_type: 'policy.decision', actor: 'host', rule_id: null }),
    ).rejects.toThrow('a policy.decision entry must name its rule_id');
    await expect(
      services.chain.append({ event_type: 'policy.decision', actor: 'host' }),
    ).rejects.toThrow('must name its rule_id');
    expect((await services.chain.query({})).entries).toHaveLength(before);
    const named = await services.chain.append({
      event_type: 'policy.decision',
      actor: 'host',
      rule_id: 'quota.checkpoints',
    });
    expect(named.rule_id).toBe('quota.checkpoints');
  });

  it('fills the envelope: ids, time from the clock, synthetic step id, pack version', async () => {
    clock.set('2026-03-04T05:06:07.089Z');
    const entry = await services.chain.append({ event_type: 'auth.denied', actor: 'gateway' });
    expect(entry).toMatchObject({
      event_type: 'auth.denied',
      timestamp: '2026-03-04T05:06:07.089Z',
      session_id: null,
      run_id: null,
      capability_id: null,
      correlation_id: null,
      policy_pack_version: stampedVersionOf(DEFAULT_POLICY_PACK),
      data: {},
    });
    expect(entry.event_id).toMatch(/^evt_/);
    expect(entry.step_id).toBe(`synthetic:${entry.event_id}`);
  });

  describe('query', () => {
    let appended: ChainEntry[];
    beforeEach(async () => {
      appended = await appendMany(12);
    });

    async function pages(
      q: Parameters<TestServices['chain']['query']>[0],
    ): Promise<ChainEntry[][]> {
      const out: ChainEntry[][] = [];
      let after: number | undefined;
      for (;;) {
        const page = await services.chain.query({
          ...q,
          ...(after === undefined ? {} : { after_seq: after }),
        });
        out.push(page.entries);
        if (page.next_after_seq === null) return out;
        expect(page.next_after_seq).toBe(page.entries.at(-1)?.seq);
        after = page.next_after_seq;
      }
    }

    it('by run, in seq order, paged', async () => {
      const expected = appended.filter((e) => e.run_id === 'run_1');
      const got = await pages({ run_id: 'run_1', limit: 2 });
      expect(got.map((p) => p.length)).toEqual([2, 2]);
      expect(got.flat()).toEqual(expected);
    });

    it('by kind, paged', async () => {
      const expected = appended.filter((e) => e.event_type === 'llm.call');
      const got = await pages({ event_type: 'llm.call', limit: 4 });
      expect(got.map((p) => p.length)).toEqual([4, 2]);
      expect(got.flat()).toEqual(expected);
    });

    it('by time range: since inclusive, until exclusive, combined with run and paging', async () => {
      const since = appended[2]?.timestamp ?? '';
      const until = appended[9]?.timestamp ?? '';
      expect(await pages({ since, until, limit: 3 }).then((p) => p.flat())).toEqual(
        appended.slice(2, 9),
      );
      expect(
        await pages({ since, until, run_id: 'run_0', limit: 1 }).then((p) => p.flat()),
      ).toEqual(appended.slice(2, 9).filter((e) => e.run_id === 'run_0'));
      expect((await services.chain.query({ since: '2099-01-01T00:00:00.000Z' })).entries).toEqual(
        [],
      );
    });

    it('an exact last page has no next page', async () => {
      const after_seq = (appended[0]?.seq ?? 1) - 1;
      const page = await services.chain.query({ after_seq, limit: appended.length });
      expect(page.entries).toEqual(appended);
      expect(page.next_after_seq).toBeNull();
    });
  });

  describe('verify() detects and locates tampering', () => {
    const SIZE = 7;
    /** First, a middle one and the last (the host may have appended entries at start-up). */
    let positions: number[];

    beforeEach(async () => {
      const last = (await appendMany(SIZE)).at(-1)?.seq ?? 0;
      positions = [1, Math.ceil(last / 2), last];
    });

    type Column = { name: string; type: string };

    async function columns(): Promise<Column[]> {
      return (await rawSql(services.store.file, 'pragma table_info(chain)')) as Column[];
    }

    /** A different value for a column, of the column's type and shape. */
    function otherValue(column: string, current: unknown): unknown {
      switch (column) {
        case 'seq':
          return Number(current) + 100;
        case 'hash':
        case 'prev_hash': {
          const s = String(current);
          return (s[0] === '0' ? '1' : '0') + s.slice(1);
        }
        case 'event_type':
          return current === 'auth.denied' ? 'llm.call' : 'auth.denied';
        case 'timestamp':
          return '2030-01-01T00:00:00.000Z';
        case 'data':
          return JSON.stringify({ ...(JSON.parse(String(current)) as object), injected: 1 });
        default:
          return `${String(current)}-tampered`;
      }
    }

    const EXPECTED_REASON: Record<string, string> = {
      seq: 'seq_gap',
      prev_hash: 'prev_hash_mismatch',
    };

    it('a change to any column of an entry at the start, middle or end', async () => {
      const file = services.store.file;
      const checked: string[] = [];
      for (const { name } of await columns()) {
        for (const seq of positions) {
          const [row] = (await rawSql(file, `select "${name}" as v from chain where seq = ?`, [
            seq,
          ])) as {
            v: unknown;
          }[];
          const tampered = otherValue(name, row?.v);
          await rawSql(file, `update chain set "${name}" = ? where seq = ?`, [tampered, seq]);
          const result = await services.chain.verify();
          expect(result, `${name} at ${seq}`).toMatchObject({
            ok: false,
            broken_at_seq: seq,
            reason: EXPECTED_REASON[name] ?? 'hash_mismatch',
            entries: seq - 1,
          });
          const newSeq = name === 'seq' ? tampered : seq;
          await rawSql(file, `update chain set "${name}" = ? where seq = ?`, [row?.v, newSeq]);
          expect(await services.chain.verify(), `restored ${name} at ${seq}`).toMatchObject({
            ok: true,
          });
          checked.push(`${name}@${seq}`);
        }
      }
      expect(checked).toHaveLength(16 * positions.length);
    });

    it('setting a nullable column to null, and a value that is not JSON or not a known type', async () => {
      const file = services.store.file;
      await rawSql(file, 'update chain set capability_id = null where seq = 3');
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: 3,
        reason: 'hash_mismatch',
      });
      await rawSql(
        file,
        `update chain set capability_id = 'cap_3', data = '{not json' where seq = 3`,
      );
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: 3,
        reason: 'malformed_entry',
      });
      await rawSql(file, `update chain set data = '{}', event_type = 'made.up' where seq = 2`);
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: 2,
        reason: 'malformed_entry',
      });
    });

    it('a tampered entry whose hash was recomputed is caught at the next link', async () => {
      const file = services.store.file;
      const [row] = (await rawSql(file, 'select * from chain where seq = 4')) as Record<
        string,
        unknown
      >[];
      const rest: Record<string, unknown> = { ...row, data: { forged: true } };
      delete rest.hash;
      const forgedHash = createHash('sha256')
        .update(String(rest.prev_hash) + canonicalJson(rest))
        .digest('hex');
      await rawSql(file, 'update chain set data = ?, hash = ? where seq = 4', [
        '{"forged":true}',
        forgedHash,
      ]);
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: 5,
        reason: 'prev_hash_mismatch',
      });
    });

    it.each([
      ['the first', 1],
      ['a middle', 4],
    ])('deleting %s entry', async (_which, seq) => {
      await rawSql(services.store.file, 'delete from chain where seq = ?', [seq]);
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: seq,
        reason: 'seq_gap',
        entries: seq - 1,
      });
    });

    it('deleting a middle entry and renumbering the rest to close the gap', async () => {
      const file = services.store.file;
      await rawSql(file, 'delete from chain where seq = 4');
      // Renumber upwards-safe: first move them far away, then back down by one.
      await rawSql(file, 'update chain set seq = seq + 1000 where seq > 4');
      await rawSql(file, 'update chain set seq = seq - 1001 where seq > 1000');
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: 4,
        reason: 'prev_hash_mismatch',
      });
    });

    it.each([
      [2, 5],
      [6, 7],
    ])('swapping entries %i and %i (reordering)', async (first, second) => {
      const file = services.store.file;
      await rawSql(file, 'update chain set seq = ? where seq = ?', [-first, first]);
      await rawSql(file, 'update chain set seq = ? where seq = ?', [first, second]);
      await rawSql(file, 'update chain set seq = ? where seq = ?', [second, -first]);
      expect(await services.chain.verify()).toMatchObject({
        ok: false,
        broken_at_seq: first,
        reason: 'prev_hash_mismatch',
      });
    });
  });

  it('verify() walks past its first page and locates a break beyond it', async () => {
    const start = (await services.chain.verify()).entries;
    await services.chain.transact(async (tx) => {
      for (let i = 0; i < 1500; i++)
        await tx.append({ event_type: 'llm.call', actor: 'bulk', data: { i } });
    });
    expect(await services.chain.verify()).toMatchObject({ ok: true, entries: start + 1500 });
    await rawSql(services.store.file, `update chain set actor = 'x' where seq = 1234`);
    expect(await services.chain.verify()).toMatchObject({
      ok: false,
      broken_at_seq: 1234,
      reason: 'hash_mismatch',
    });
    await rawSql(services.store.file, `update chain set actor = 'bulk' where seq = 1234`);
    await rawSql(services.store.file, 'delete from chain where seq = 1001');
    expect(await services.chain.verify()).toMatchObject({
      ok: false,
      broken_at_seq: 1001,
      reason: 'seq_gap',
    });
  });
});

describe('CausalChain with keys JSON must escape', () => {
  it('verifies entries whose data keys V8 reads back as one another (nodejs/node#63785)', async () => {
    const services = await openTestServices({ clock: manualClock() });
    try {
      const before = (await services.chain.verify()).entries;
      // An agent chooses argument names: `\` then `"`, the pair V8's key cache confuses.
      await services.chain.append({
        event_type: 'skill.execute',
        actor: 'agent',
        data: { h: [], '\\': 0 },
      });
      await services.chain.append({
        event_type: 'skill.execute',
        actor: 'agent',
        data: { h: 1, '"': 2 },
      });
      const result = await services.chain.verify();
      expect(result).toMatchObject({ ok: true, entries: before + 2 });
      const read = await services.chain.query({ after_seq: 0, limit: 10 });
      expect(read.entries.slice(before).map((e) => Object.keys(e.data))).toEqual([
        ['h', '\\'],
        ['h', '"'],
      ]);
    } finally {
      await services.close();
    }
  });
});
