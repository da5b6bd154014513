import type { Selectable } from 'kysely';
import {
  deliveryAttemptSchema,
  deliveryErrorCategorySchema,
  outboundContentSchema,
  outboxStateSchema,
  type DeliveryAttempt,
  type OutboundContent,
  type OutboxMessage,
} from '../../contracts/outbox.ts';
import { labelAtomSchema } from '../../contracts/labels.ts';
import type { OutboxAttemptsTable, OutboxTable } from '../store/schema.ts';

export type OutboxRow = Selectable<OutboxTable>;

/** A row as the API shows it; its JSON columns are parsed (database JSON is an edge). */
export function messageOfRow(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    idempotency_key: row.idempotency_key,
    connector_id: row.connector_id,
    channel_id: row.channel_id,
    run_id: row.run_id,
    step_id: row.step_id,
    label: labelAtomSchema.array().parse(JSON.parse(row.label)),
    content_sha256: row.content_sha256,
    state: outboxStateSchema.parse(row.state),
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    next_attempt_at: row.next_attempt_at,
    last_error_category:
      row.last_error_category === null
        ? null
        : deliveryErrorCategorySchema.parse(row.last_error_category),
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function contentOfRow(row: Pick<OutboxRow, 'content'>): OutboundContent {
  return outboundContentSchema.parse(JSON.parse(row.content));
}

export function attemptOfRow(row: Selectable<OutboxAttemptsTable>): DeliveryAttempt {
  return deliveryAttemptSchema.parse({
    attempt: row.attempt,
    started_at: row.started_at,
    ended_at: row.ended_at,
    status: row.status,
    latency_ms: row.latency_ms,
    outcome: row.outcome,
    category: row.category,
    message: row.message,
  });
}
