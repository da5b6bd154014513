import { createHash } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type {
  PayloadKind,
  PayloadRef,
  PurgeResult,
  Transcript,
  ValueLabel,
} from '../../contracts/payloads.ts';
import { runStateSchema } from '../../contracts/runs.ts';
import type { ActorContext } from '../actor-context.ts';
import { auditedBy } from '../actor-context.ts';
import { canonicalJson } from '../chain/canonical-json.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Db, PayloadsTable } from '../store/schema.ts';
import { isTerminal } from './transitions.ts';

/**
 * The label of a payload nothing has labelled yet. The contract: an unlabeled value counts
 * as the most restrictive label present, and as PII when nothing is known — tool inputs
 * and outputs, prompts and answers can hold any message content.
 */
export const UNLABELED_PAYLOAD: ValueLabel = 'pii.chat.message';

/** One payload to record, already redacted. */
export type PayloadInput = {
  run_id: string;
  step_id: string;
  kind: PayloadKind;
  subject: string;
  content: unknown;
  label?: ValueLabel;
};

const TRANSCRIPT_PAGE = 200;

/**
 * Payloads of runs (issue 17 #15): the content of tool calls and LLM calls, kept out of the
 * causal chain, which is never purged and which connectors can read. Each payload is
 * recorded inside the transaction of the chain entry that names it by digest, so the entry
 * exists exactly when its payload does. Purging removes content and keeps the digests.
 */
export class PayloadStore {
  readonly #deps: { db: Db; chain: CausalChain; clock: Clock };

  constructor(deps: { db: Db; chain: CausalChain; clock: Clock }) {
    this.#deps = deps;
  }

  /** Stores `input` in the caller's transaction; the returned reference goes on the chain. */
  async recordIn(tx: ChainTx, input: PayloadInput): Promise<PayloadRef> {
    const text = storedText(input.content);
    const ref: PayloadRef = {
      digest: digestOf(text),
      bytes: Buffer.byteLength(text),
      label: input.label ?? UNLABELED_PAYLOAD,
    };
    await tx.db
      .insertInto('payloads')
      .values({
        run_id: input.run_id,
        step_id: input.step_id,
        kind: input.kind,
        subject: input.subject,
        ...ref,
        content: text,
        created_at: this.#deps.clock.now().toISOString(),
        purged_at: null,
      })
      .execute();
    return ref;
  }

  /**
   * The newest payload of `kind` for a step, if its content is still there and matches
   * `digest` (the chain's word for it): a replay must answer with exactly what was recorded.
   */
  async contentIn(
    tx: ChainTx,
    where: { run_id: string; step_id: string; kind: PayloadKind; digest: string },
  ): Promise<{ found: true; content: unknown } | { found: false }> {
    const row = await tx.db
      .selectFrom('payloads')
      .select(['content', 'digest'])
      .where('run_id', '=', where.run_id)
      .where('step_id', '=', where.step_id)
      .where('kind', '=', where.kind)
      .where('digest', '=', where.digest)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row?.content === null || row?.content === undefined) return { found: false };
    if (digestOf(row.content) !== where.digest) return { found: false };
    return { found: true, content: JSON.parse(row.content) as unknown };
  }

  /** A run's payloads in the order they were recorded, paged by id. */
  async transcript(
    runId: string,
    page: { after_id?: number; limit?: number } = {},
  ): Promise<Transcript> {
    const limit = page.limit ?? TRANSCRIPT_PAGE;
    const rows = await this.#deps.db
      .selectFrom('payloads')
      .selectAll()
      .where('run_id', '=', runId)
      .where('id', '>', page.after_id ?? 0)
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map(toItem);
    const last = items.at(-1);
    return {
      run_id: runId,
      items,
      next_after_id: rows.length > limit && last !== undefined ? last.id : null,
    };
  }

  /**
   * Removes the content of every payload of a run that has ended, with a `payloads.purged`
   * entry. Refused (CONFLICT) while the run can still go on: a re-issued call is answered
   * from its recorded outcome, which must still be there. The digests stay, so the chain
   * still says what was there, and the steps keep their tool names only.
   */
  async purge(
    runId: string,
    ctx: ActorContext,
    /** Why, on the entry, when the host purges on its own (`retention`); absent for a person's purge. */
    reason?: string,
  ): Promise<PurgeResult> {
    const result = await this.#deps.chain.transact(async (tx) => {
      const run = await tx.db
        .selectFrom('runs')
        .select(['state', 'session_id'])
        .where('id', '=', runId)
        .executeTakeFirst();
      if (run === undefined) throw new AppError('NOT_FOUND', `run ${runId} not found`);
      if (!isTerminal(runStateSchema.parse(run.state))) {
        throw new AppError(
          'CONFLICT',
          `run ${runId} is ${run.state}: its payloads are what it resumes from, so they are purged only once it has ended (cancel it first)`,
          { state: run.state },
        );
      }
      const live = await tx.db
        .selectFrom('payloads')
        .select((eb) => [
          eb.fn.countAll<number>().as('n'),
          eb.fn.sum<number | null>('bytes').as('bytes'),
        ])
        .where('run_id', '=', runId)
        .where('content', 'is not', null)
        .executeTakeFirstOrThrow();
      const purged = { run_id: runId, purged: live.n, bytes: live.bytes ?? 0 };
      if (purged.purged === 0) return purged;
      await tx.db
        .updateTable('payloads')
        .set({ content: null, purged_at: this.#deps.clock.now().toISOString() })
        .where('run_id', '=', runId)
        .where('content', 'is not', null)
        .execute();
      // A tool step's summary repeats its parameters: keep only the tool's name.
      await sql`update steps set summary = substr(summary, 1, instr(summary, ' ') - 1)
        where run_id = ${runId} and kind = 'skill' and instr(summary, ' ') > 0`.execute(tx.db);
      await tx.append({
        event_type: 'payloads.purged',
        ...auditedBy(ctx),
        session_id: run.session_id,
        run_id: runId,
        data: {
          purged: purged.purged,
          bytes: purged.bytes,
          ...(reason === undefined ? {} : { reason }),
        },
      });
      return purged;
    });
    // The old page images can still sit in the WAL; a truncating checkpoint writes the
    // (securely deleted) pages home and empties it, so the content is gone from disk.
    if (result.purged > 0) await sql`pragma wal_checkpoint(truncate)`.execute(this.#deps.db);
    return result;
  }
}

/** The JSON text stored and digested: canonical where JSON allows it, so equal content hashes alike. */
function storedText(content: unknown): string {
  try {
    return canonicalJson(content ?? null);
  } catch {
    // Not canonicalisable (a lone surrogate from a skill): kept as JSON writes it.
    return JSON.stringify(content ?? null);
  }
}

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function toItem(row: Selectable<PayloadsTable>): Transcript['items'][number] {
  return {
    id: row.id,
    step_id: row.step_id,
    kind: row.kind as PayloadKind,
    subject: row.subject,
    created_at: row.created_at,
    digest: row.digest,
    bytes: row.bytes,
    label: row.label as ValueLabel,
    content: row.content === null ? null : (JSON.parse(row.content) as unknown),
    purged_at: row.purged_at,
  };
}
