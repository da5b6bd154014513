import type { ErrorCode } from '../../contracts/errors.ts';
import type {
  OutboxActionResult,
  OutboxList,
  OutboxListQuery,
  OutboxMessage,
  OutboxMessageDetail,
  OutboxPruneInput,
  OutboxPruneResult,
  OutboxRetryInput,
} from '../../contracts/outbox.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { Db } from '../store/schema.ts';
import { durationTextMs } from './duration-text.ts';
import { attemptOfRow, contentOfRow, messageOfRow, type OutboxRow } from './outbox-rows.ts';

/** A prune shorter than this could delete a row the dispatcher has just settled and a person not yet seen. */
const MIN_PRUNE_MS = 60_000;

/** The rule a refused action names on its `outbox.admin` entry. */
export const OUTBOX_ADMIN_RULES = {
  retryDelivered: 'outbox.retry_delivered',
  retryNotDead: 'outbox.retry_not_dead',
  discardDelivered: 'outbox.discard_delivered',
  discardLeased: 'outbox.discard_leased',
} as const;

export type OutboxAdminDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  redactor: Redactor;
  /** The budget a retried dead letter gets when the admin names none (the pack default). */
  retryAttempts: number;
  /** Called after a retry commits: the dispatcher's `poke`, so the message goes now. */
  poke: () => void;
};

type Refusal = { code: ErrorCode; rule_id: string; message: string };

/**
 * The person's view of the outbox (`/v1/outbox`, `ccos outbox`): list and show (content and
 * errors through the redactor on the way out), retry a dead letter, discard a dead or queued
 * message, prune settled rows. Each action — and each refusal — is one `outbox.admin` entry in
 * the transaction of the change.
 */
export class OutboxAdmin {
  readonly #deps: OutboxAdminDeps;

  constructor(deps: OutboxAdminDeps) {
    this.#deps = deps;
  }

  async list(query: OutboxListQuery): Promise<OutboxList> {
    let q = this.#deps.db.selectFrom('outbox').selectAll();
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.connector !== undefined) q = q.where('connector_id', '=', query.connector);
    if (query.run !== undefined) q = q.where('run_id', '=', query.run);
    if (query.cursor !== undefined) {
      const [at = '', id = ''] = query.cursor.split('~');
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]),
      );
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      messages: page.map((r) => this.#view(r)),
      next_cursor:
        rows.length > query.limit && last !== undefined ? `${last.created_at}~${last.id}` : null,
    };
  }

  async show(id: string): Promise<OutboxMessageDetail> {
    const row = await this.#find(this.#deps.db, id);
    const attempts = await this.#deps.db
      .selectFrom('outbox_attempts')
      .selectAll()
      .where('outbox_id', '=', id)
      .orderBy('attempt')
      .execute();
    const { redactor } = this.#deps;
    return {
      ...this.#view(row),
      // Redacted on write already; again on read, for a secret the host learned since.
      content: redactor.redactValue(contentOfRow(row)),
      history: attempts.map((a) => {
        const attempt = attemptOfRow(a);
        return {
          ...attempt,
          message: attempt.message === null ? null : redactor.redactString(attempt.message),
        };
      }),
    };
  }

  /**
   * A dead letter goes back to the queue, due now, with `attempts` more tries than it has made.
   * Attempts are never reset: each keeps its number in the history and on the chain, and the
   * idempotency key stays, so a receiver that took an earlier attempt dedupes this one.
   */
  async retry(id: string, input: OutboxRetryInput, ctx: ActorContext): Promise<OutboxActionResult> {
    const budget = input.attempts ?? this.#deps.retryAttempts;
    return this.#act(id, 'retry', ctx, async (tx, row) => {
      if (row.state === 'delivered')
        return refusal('OUTBOX_ALREADY_DELIVERED', 'retryDelivered', `${id} was delivered`);
      if (row.state !== 'dead')
        return refusal('OUTBOX_NOT_DEAD', 'retryNotDead', `${id} is ${row.state}, not dead`);
      const now = this.#deps.clock.now().toISOString();
      const updated = await tx.db
        .updateTable('outbox')
        .set({
          state: 'queued',
          max_attempts: row.attempts + budget,
          next_attempt_at: now,
          lease_owner: null,
          lease_expires_at: null,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('state', '=', 'dead')
        .returningAll()
        .executeTakeFirstOrThrow();
      tx.afterCommit(this.#deps.poke);
      return {
        message: this.#view(updated),
        data: { attempts: row.attempts, max_attempts: updated.max_attempts },
      };
    });
  }

  /** A dead or queued message is deleted; the chain keeps its entries and this one. */
  async discard(id: string, ctx: ActorContext): Promise<OutboxActionResult> {
    return this.#act(id, 'discard', ctx, async (tx, row) => {
      if (row.state === 'delivered')
        return refusal('OUTBOX_ALREADY_DELIVERED', 'discardDelivered', `${id} was delivered`);
      if (row.state === 'in_flight')
        return refusal(
          'OUTBOX_LEASED',
          'discardLeased',
          `${id} is in flight: a host may be sending it now; discard it once it settles`,
        );
      await tx.db.deleteFrom('outbox_attempts').where('outbox_id', '=', id).execute();
      await tx.db
        .deleteFrom('outbox')
        .where('id', '=', id)
        .where('state', 'in', ['queued', 'dead'])
        .execute();
      return { message: null, data: { state: row.state, attempts: row.attempts } };
    });
  }

  /** Deletes delivered and dead rows last changed before now − `older_than`, as one entry. */
  async prune(input: OutboxPruneInput, ctx: ActorContext): Promise<OutboxPruneResult> {
    const olderThanMs = durationTextMs(input.older_than);
    if (olderThanMs < MIN_PRUNE_MS)
      throw new AppError('INVALID_INPUT', 'older_than must be at least 1m', {
        fields: [{ path: 'older_than', message: 'at least 1m' }],
      });
    const cutoff = new Date(this.#deps.clock.now().getTime() - olderThanMs).toISOString();
    return this.#deps.chain.transact(async (tx) => {
      const doomed = tx.db
        .selectFrom('outbox')
        .select('id')
        .where('state', 'in', ['delivered', 'dead'])
        .where('updated_at', '<', cutoff);
      await tx.db.deleteFrom('outbox_attempts').where('outbox_id', 'in', doomed).execute();
      const deleted = await tx.db
        .deleteFrom('outbox')
        .where('state', 'in', ['delivered', 'dead'])
        .where('updated_at', '<', cutoff)
        .executeTakeFirst();
      const count = Number(deleted.numDeletedRows);
      await tx.append({
        event_type: 'outbox.admin',
        ...auditedBy(ctx),
        rule_id: 'outbox.prune',
        data: {
          action: 'prune',
          outcome: 'done',
          older_than: input.older_than,
          cutoff,
          count,
        },
      });
      return { deleted: count };
    });
  }

  /** One action on one row: the change and its entry commit together; a refusal commits its entry, then throws. */
  async #act(
    id: string,
    action: 'retry' | 'discard',
    ctx: ActorContext,
    change: (
      tx: ChainTx,
      row: OutboxRow,
    ) => Promise<Refusal | { message: OutboxMessage | null; data: Record<string, unknown> }>,
  ): Promise<OutboxActionResult> {
    const done = await this.#deps.chain.transact(async (tx) => {
      const row = await this.#find(tx.db, id);
      const outcome = await change(tx, row);
      const refused = 'code' in outcome;
      await tx.append({
        event_type: 'outbox.admin',
        ...auditedBy(ctx),
        session_id: row.session_id,
        run_id: row.run_id,
        rule_id: refused ? outcome.rule_id : `outbox.${action}`,
        data: {
          action,
          outcome: refused ? 'refused' : 'done',
          ids: [id],
          count: refused ? 0 : 1,
          connector_id: row.connector_id,
          ...(refused ? { state: row.state, code: outcome.code } : outcome.data),
        },
      });
      return outcome;
    });
    if ('code' in done) throw new AppError(done.code, done.message, { rule_id: done.rule_id });
    return { id, action, message: done.message };
  }

  async #find(db: Db | ChainTx['db'], id: string): Promise<OutboxRow> {
    const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new AppError('NOT_FOUND', `no outbox message ${id}`);
    return row;
  }

  #view(row: OutboxRow): OutboxMessage {
    const message = messageOfRow(row);
    return {
      ...message,
      last_error:
        message.last_error === null ? null : this.#deps.redactor.redactString(message.last_error),
    };
  }
}

function refusal(code: ErrorCode, rule: keyof typeof OUTBOX_ADMIN_RULES, message: string): Refusal {
  return { code, rule_id: OUTBOX_ADMIN_RULES[rule], message };
}
