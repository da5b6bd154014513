import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { OutboundContent, OutboxMessage } from '../../contracts/outbox.ts';
import { canonicalJson } from '../chain/canonical-json.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { newId } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Label } from '../policy/labels.ts';
import type { Db } from '../store/schema.ts';
import { messageOfRow, type OutboxRow } from './outbox-rows.ts';

/** One message to queue, already past the outbound gate and redacted. */
export type EnqueueInput = {
  connector_id: string;
  channel_id: string;
  content: OutboundContent;
  label: Label;
  run_id: string | null;
  step_id: string | null;
  session_id: string | null;
  /** Caller-supplied; derived from run, step and content when absent. */
  idempotency_key?: string | undefined;
  max_attempts: number;
  actor: string;
  now: Date;
};

export function contentSha256(content: OutboundContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/**
 * The key of a message whose caller named none: the same run, step and content give the same
 * key, so a step replayed after a crash queues nothing new; a different message gets another.
 */
export function derivedIdempotencyKey(input: {
  run_id: string | null;
  step_id: string | null;
  connector_id: string;
  channel_id: string;
  content: OutboundContent;
}): string {
  const digest = createHash('sha256')
    .update(
      canonicalJson([
        input.run_id,
        input.step_id,
        input.connector_id,
        input.channel_id,
        input.content,
      ]),
    )
    .digest('hex');
  return `ccos:${digest.slice(0, 48)}`;
}

/**
 * Writes one message to the outbox in the caller's transaction — the transaction of the step
 * that produced it — with its `outbox.queued` entry (a digest, never the text). A key already
 * queued with the same content returns that row (a replayed step); with other content it is
 * an IDEMPOTENCY_CONFLICT, never a silent overwrite.
 */
export async function enqueueIn(tx: ChainTx, input: EnqueueInput): Promise<OutboxMessage> {
  const key = input.idempotency_key ?? derivedIdempotencyKey(input);
  const sha = contentSha256(input.content);
  const existing = await tx.db
    .selectFrom('outbox')
    .selectAll()
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  if (existing !== undefined) {
    if (existing.content_sha256 === sha && existing.channel_id === input.channel_id)
      return messageOfRow(existing);
    throw new AppError(
      'IDEMPOTENCY_CONFLICT',
      `idempotency key ${key} was already used for another message`,
    );
  }
  const at = input.now.toISOString();
  const row: OutboxRow = {
    id: newId('obx'),
    idempotency_key: key,
    connector_id: input.connector_id,
    channel_id: input.channel_id,
    run_id: input.run_id,
    step_id: input.step_id,
    session_id: input.session_id,
    content: JSON.stringify(input.content),
    content_sha256: sha,
    label: JSON.stringify(input.label),
    state: 'queued',
    attempts: 0,
    max_attempts: input.max_attempts,
    next_attempt_at: at,
    lease_owner: null,
    lease_expires_at: null,
    last_error_category: null,
    last_error: null,
    created_at: at,
    updated_at: at,
  };
  await tx.db.insertInto('outbox').values(row).execute();
  await tx.append({
    event_type: 'outbox.queued',
    actor: input.actor,
    session_id: input.session_id,
    run_id: input.run_id,
    step_id: input.step_id,
    data: {
      outbox_id: row.id,
      connector_id: row.connector_id,
      channel_id: row.channel_id,
      idempotency_key_sha256: createHash('sha256').update(key).digest('hex'),
      content_sha256: sha,
      label: [...input.label],
    },
  });
  return messageOfRow(row);
}

/**
 * Claims up to `limit` due rows for `owner` in one UPDATE: queued rows whose time has come,
 * and in-flight rows whose lease expired (their host died or hung) with attempts left. The
 * WHERE clause is the lock: two hosts running it at once cannot both win a row.
 */
export async function claimDueIn(
  tx: ChainTx,
  claim: { owner: string; now: Date; leaseMs: number; limit: number },
): Promise<OutboxRow[]> {
  const now = claim.now.toISOString();
  const until = new Date(claim.now.getTime() + claim.leaseMs).toISOString();
  const { rows } = await sql<OutboxRow>`
    update outbox
       set state = 'in_flight', lease_owner = ${claim.owner}, lease_expires_at = ${until},
           attempts = attempts + 1, updated_at = ${now}
     where id in (
       select id from outbox
        where attempts < max_attempts
          and ((state = 'queued' and next_attempt_at <= ${now})
            or (state = 'in_flight' and lease_expires_at <= ${now}))
        order by next_attempt_at, id
        limit ${claim.limit})
    returning *`.execute(tx.db);
  return rows;
}

/**
 * Dead-letters in-flight rows whose lease expired after their last allowed attempt: the host
 * died while sending it, and trying once more would exceed `max_attempts`.
 */
export async function expireExhaustedIn(tx: ChainTx, now: Date): Promise<OutboxRow[]> {
  const at = now.toISOString();
  const { rows } = await sql<OutboxRow>`
    update outbox
       set state = 'dead', lease_owner = null, lease_expires_at = null,
           last_error_category = 'lease_expired',
           last_error = 'the host stopped during the last allowed attempt', updated_at = ${at}
     where state = 'in_flight' and lease_expires_at <= ${at} and attempts >= max_attempts
    returning *`.execute(tx.db);
  return rows;
}

/** When the dispatcher must next look: the earliest due row or expiring lease; undefined when idle. */
export async function nextWakeIn(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [
      eb.fn
        .min(eb.case().when('state', '=', 'queued').then(eb.ref('next_attempt_at')).end())
        .as('due'),
      eb.fn
        .min(eb.case().when('state', '=', 'in_flight').then(eb.ref('lease_expires_at')).end())
        .as('lease'),
    ])
    .executeTakeFirst();
  const times = [row?.due, row?.lease].filter((t): t is string => typeof t === 'string');
  return times.sort()[0];
}
