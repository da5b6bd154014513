import { sql } from 'kysely';
import type {
  MemoryAudience,
  MemoryListQuery,
  MemoryPurgeRequest,
} from '../../contracts/memory.ts';
import type { ChainAppendInput, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { describeLabel, leq, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { Db } from '../store/schema.ts';
import { audienceAdmits, audienceSpecificity, type AudienceContext } from './memory-audience.ts';
import { labelColumn, recordOf, sourceColumn, type MemoryRecord } from './memory-record.ts';
import { MEMORY_RULES, type MemoryRuleId } from './memory-rules.ts';
import { secretInMemory } from './secret-in-memory.ts';

/** The envelope a memory entry is written under: who, for which session, run and step. */
export type MemoryAudit = Omit<ChainAppendInput, 'event_type' | 'rule_id'>;

/** One write: the value and everything governed memory records about it. */
export type MemoryWrite = Omit<MemoryRecord, 'id' | 'created_at' | 'updated_at'>;

/** Who reads: their audience context, the most restrictive label they may read, and their audit envelope. */
export type MemoryReader = {
  audience: AudienceContext;
  clearance: Label;
  audit: MemoryAudit;
};

/** A write's result: the item's id, or the refusal (already on the chain when the transaction commits). */
export type MemoryWriteOutcome = { ok: true; id: string } | { ok: false; error: AppError };

/** Keys listed to a reader at most, so a list never turns into a dump of the namespace. */
const MAX_LISTED = 100;

export type MemoryStoreDeps = { db: Db; clock: Clock; redactor: Redactor };

/**
 * Governed memory (issue 22, ARCHITECTURE.md §9): the only code that reads or writes the
 * `memory` table. Every write is checked (no secret, ever) and recorded as `memory.write`;
 * every read is filtered by audience, label and expiry, and a read that found only items it
 * may not see is recorded as a `policy.decision` with its rule — never with the value. A
 * withheld item reads exactly like a missing one, so a reader learns nothing from trying.
 * Methods take the caller's transaction: a write, its entry and the caller's own changes
 * commit together.
 */
export class MemoryStore {
  readonly #deps: MemoryStoreDeps;

  constructor(deps: MemoryStoreDeps) {
    this.#deps = deps;
  }

  get db(): Db {
    return this.#deps.db;
  }

  /**
   * Records a refusal (`policy.decision` with `ruleId`) and returns the error for the writer;
   * the caller throws it after the transaction commits, so the entry stays.
   */
  async refuseIn(
    tx: ChainTx,
    ruleId: MemoryRuleId,
    audit: MemoryAudit,
    what: { namespace: string; key?: string; reason: string },
    message: string,
  ): Promise<AppError> {
    await tx.append({
      ...audit,
      event_type: 'policy.decision',
      rule_id: ruleId,
      data: {
        ...audit.data,
        decision: 'refused',
        namespace: what.namespace,
        ...(what.key === undefined ? {} : { key: this.#deps.redactor.redactString(what.key) }),
        reason: what.reason,
      },
    });
    return new AppError('MEMORY_DENIED', message, { rule_id: ruleId });
  }

  /** Stores one item (replacing the same key's item for the same audience) with its `memory.write`. */
  async writeIn(tx: ChainTx, write: MemoryWrite, audit: MemoryAudit): Promise<MemoryWriteOutcome> {
    const secret = secretInMemory(this.#deps.redactor, write.key, write.value, write.label);
    if (secret !== undefined) {
      const error = await this.refuseIn(
        tx,
        MEMORY_RULES.noSecret,
        audit,
        { namespace: write.namespace, key: write.key, reason: `secret_${secret}` },
        'this value holds a secret; secrets are never stored in memory: keep it in the secret store and reference it by name',
      );
      return { ok: false, error };
    }
    const now = this.#deps.clock.now().toISOString();
    const value = JSON.stringify(write.value ?? null);
    const row = {
      id: newId('mem'),
      namespace: write.namespace,
      key: write.key,
      value,
      label: labelColumn(write.label),
      taint: write.taint,
      source: sourceColumn(write.source),
      run_id: write.run_id,
      step_id: write.step_id,
      session_id: write.session_id,
      audience: write.audience,
      audience_id: write.audience_id,
      expires_at: write.expires_at,
      created_at: now,
      updated_at: now,
    };
    const { id } = await tx.db
      .insertInto('memory')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['namespace', 'key', 'audience', 'audience_id']).doUpdateSet({
          value: row.value,
          label: row.label,
          taint: row.taint,
          source: row.source,
          run_id: row.run_id,
          step_id: row.step_id,
          session_id: row.session_id,
          expires_at: row.expires_at,
          updated_at: row.updated_at,
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.append({
      ...audit,
      event_type: 'memory.write',
      data: {
        namespace: write.namespace,
        ...audit.data,
        item_id: id,
        key: write.key,
        label: describeLabel(write.label),
        taint: write.taint,
        audience: write.audience,
        bytes: Buffer.byteLength(value),
        ...(write.expires_at === null ? {} : { expires_at: write.expires_at }),
      },
    });
    return { ok: true, id };
  }

  /**
   * The item under `key` this reader may see — the most specific audience first — or
   * undefined. Expired items are gone for every reader; items withheld by audience or label
   * leave a `policy.decision` (`memory.audience` / `memory.label`) naming only the key asked for.
   */
  async readIn(
    tx: ChainTx,
    reader: MemoryReader,
    namespace: string,
    key: string,
  ): Promise<MemoryRecord | undefined> {
    const rows = await tx.db
      .selectFrom('memory')
      .selectAll()
      .where('namespace', '=', namespace)
      .where('key', '=', key)
      .execute();
    const { visible, byAudience, byLabel } = this.#filter(rows.map(recordOf), reader);
    const best = visible.sort(
      (a, b) => audienceSpecificity(a.audience) - audienceSpecificity(b.audience),
    )[0];
    if (best === undefined && byAudience + byLabel > 0) {
      await tx.append({
        ...reader.audit,
        event_type: 'policy.decision',
        rule_id: byLabel > 0 ? MEMORY_RULES.label : MEMORY_RULES.audience,
        data: {
          ...reader.audit.data,
          decision: 'withheld',
          namespace,
          key: this.#deps.redactor.redactString(key),
          withheld: byAudience + byLabel,
        },
      });
    }
    return best;
  }

  /** The items of a namespace this reader may see (keys starting with `prefix`), key order. */
  async listIn(
    tx: ChainTx,
    reader: MemoryReader,
    namespace: string,
    prefix = '',
  ): Promise<MemoryRecord[]> {
    const rows = await tx.db
      .selectFrom('memory')
      .selectAll()
      .where('namespace', '=', namespace)
      .orderBy('key')
      .execute();
    const { visible } = this.#filter(
      rows.map(recordOf).filter((r) => r.key.startsWith(prefix)),
      reader,
    );
    const seen = new Set<string>();
    return visible.filter((r) => !seen.has(r.key) && seen.add(r.key)).slice(0, MAX_LISTED);
  }

  #filter(
    records: readonly MemoryRecord[],
    reader: MemoryReader,
  ): { visible: MemoryRecord[]; byAudience: number; byLabel: number } {
    const now = this.#deps.clock.now().toISOString();
    let byAudience = 0;
    let byLabel = 0;
    const visible: MemoryRecord[] = [];
    for (const r of records) {
      if (r.expires_at !== null && r.expires_at <= now) continue;
      if (!audienceAdmits(r.audience, r.audience_id, reader.audience)) byAudience++;
      else if (!leq(r.label, reader.clearance)) byLabel++;
      else visible.push(r);
    }
    return { visible, byAudience, byLabel };
  }

  /** Bytes (keys and JSON values) of every item a run wrote, without the item `exceptId`. */
  async runBytesIn(tx: ChainTx, runId: string, exceptId: string | undefined): Promise<number> {
    const row = await tx.db
      .selectFrom('memory')
      .select(
        sql<number>`coalesce(sum(length(cast(key as blob)) + length(cast(value as blob))), 0)`.as(
          'bytes',
        ),
      )
      .where('run_id', '=', runId)
      .where('id', '!=', exceptId ?? '')
      .executeTakeFirstOrThrow();
    return row.bytes;
  }

  /** The id of the item a write of `key` for this audience would replace, if any. */
  async existingIdIn(
    tx: ChainTx,
    namespace: string,
    key: string,
    audience: MemoryAudience,
    audienceId: string,
  ): Promise<string | undefined> {
    const row = await tx.db
      .selectFrom('memory')
      .select('id')
      .where('namespace', '=', namespace)
      .where('key', '=', key)
      .where('audience', '=', audience)
      .where('audience_id', '=', audienceId)
      .executeTakeFirst();
    return row?.id;
  }

  /** Every item matching the admin's filters (expired ones included: the person sees all). */
  async listAll(query: MemoryListQuery): Promise<MemoryRecord[]> {
    let q = this.#deps.db.selectFrom('memory').selectAll();
    if (query.run_id !== undefined) q = q.where('run_id', '=', query.run_id);
    if (query.session_id !== undefined) q = q.where('session_id', '=', query.session_id);
    if (query.namespace !== undefined) q = q.where('namespace', '=', query.namespace);
    const rows = await q.orderBy('namespace').orderBy('key').limit(query.limit).execute();
    return rows.map(recordOf);
  }

  async get(id: string): Promise<MemoryRecord | undefined> {
    const row = await this.#deps.db
      .selectFrom('memory')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : recordOf(row);
  }

  /** Deletes one item and records it (`memory.deleted`); false when there was none. */
  async deleteIn(tx: ChainTx, id: string, audit: MemoryAudit): Promise<boolean> {
    const row = await tx.db
      .deleteFrom('memory')
      .where('id', '=', id)
      .returning(['namespace', 'key', 'run_id', 'session_id'])
      .executeTakeFirst();
    if (row === undefined) return false;
    await tx.append({
      ...audit,
      event_type: 'memory.deleted',
      data: { ...audit.data, item_id: id, namespace: row.namespace, key: row.key },
    });
    return true;
  }

  /**
   * Deletes every item past its `expires_at` (reads have not served them since that instant),
   * recorded as one `memory.purged` with reason `expired` and the count: never a key or value.
   */
  async sweepExpiredIn(tx: ChainTx, audit: MemoryAudit): Promise<number> {
    const rows = await tx.db
      .deleteFrom('memory')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', this.#deps.clock.now().toISOString())
      .returning('id')
      .execute();
    if (rows.length === 0) return 0;
    await tx.append({
      ...audit,
      event_type: 'memory.purged',
      data: { ...audit.data, reason: 'expired', purged: rows.length },
    });
    return rows.length;
  }

  /** Deletes every item of one run, session or namespace, recorded as one `memory.purged`. */
  async purgeIn(tx: ChainTx, scope: MemoryPurgeRequest, audit: MemoryAudit): Promise<number> {
    let q = tx.db.deleteFrom('memory');
    if ('run_id' in scope) q = q.where('run_id', '=', scope.run_id);
    else if ('session_id' in scope) q = q.where('session_id', '=', scope.session_id);
    else q = q.where('namespace', '=', scope.namespace);
    const rows = await q.returning('id').execute();
    await tx.append({
      ...audit,
      event_type: 'memory.purged',
      data: { ...audit.data, scope, purged: rows.length },
    });
    return rows.length;
  }
}
