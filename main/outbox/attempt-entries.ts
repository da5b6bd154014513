import type { ChainAppendInput } from '../chain/causal-chain.ts';
import {
  egressAttemptEntry,
  egressOutcomeEntry,
  egressRefusedEntry,
  type AuditEnvelope,
  type EgressSender,
  type EgressTarget,
} from '../chain/egress-audit.ts';
import type { DeliveryResult } from './delivery-result.ts';
import type { OutboxRow } from './outbox-rows.ts';

/** What became of the message after an attempt. */
export type AttemptOutcome = 'delivered' | 'retry' | 'dead';

const SENDER_ACTOR = 'host.outbox';

function sender(row: OutboxRow): EgressSender {
  return { actor: SENDER_ACTOR, capability_id: `connector:${row.connector_id}` };
}

function envelope(row: OutboxRow): AuditEnvelope {
  return {
    session_id: row.session_id,
    run_id: row.run_id,
    step_id: row.step_id,
    correlation_id: row.id,
  };
}

/** The request of attempt `row.attempts` (the claim has counted it). */
function target(row: OutboxRow, url: string, method: string): EgressTarget {
  return {
    request_id: `${row.id}.${row.attempts}`,
    purpose: 'outbox.delivery',
    url,
    method,
    hop: 0,
  };
}

/** `egress.attempt`, committed with the claim, before the request leaves. */
export function attemptStartedEntry(row: OutboxRow, url: string, method: string): ChainAppendInput {
  return egressAttemptEntry(sender(row), envelope(row), target(row, url, method), 'outbox.claim');
}

/**
 * A destination refused before anything left: an `egress.attempt` denied by `rule_id` and the
 * `outbound.attempt` that dead-letters the message for it.
 */
export function attemptRefusedEntries(
  row: OutboxRow,
  refusal: { rule_id: string; message: string },
): ChainAppendInput[] {
  return [
    egressRefusedEntry(sender(row), envelope(row), target(row, '(refused)', 'POST'), {
      rule_id: refusal.rule_id,
      code: 'OUTBOUND_DENIED',
      message: refusal.message,
    }),
    {
      ...envelope(row),
      event_type: 'policy.decision',
      actor: SENDER_ACTOR,
      rule_id: refusal.rule_id,
      data: { decision: 'refused', outbox_id: row.id, attempt: row.attempts },
    },
    outboundEntry(row, {
      outcome: 'dead',
      status: null,
      latency_ms: null,
      category: 'invalid',
      decision: 'denied',
      rule_id: refusal.rule_id,
    }),
  ];
}

/** `egress.outcome` and `outbound.attempt` of an attempt that was sent. */
export function attemptEndedEntries(
  row: OutboxRow,
  sent: { url: string; method: string },
  result: DeliveryResult,
  outcome: AttemptOutcome,
  latencyMs: number,
): ChainAppendInput[] {
  return [
    egressOutcomeEntry(sender(row), envelope(row), target(row, sent.url, sent.method), {
      ...(result.status === null ? {} : { status: result.status }),
      ...(result.ok ? {} : { code: result.category, message: result.message }),
    }),
    outboundEntry(row, {
      outcome,
      status: result.status,
      latency_ms: latencyMs,
      category: result.ok ? null : result.category,
      decision: 'allowed',
      rule_id: 'outbox.claim',
    }),
  ];
}

function outboundEntry(
  row: OutboxRow,
  data: {
    outcome: AttemptOutcome;
    status: number | null;
    latency_ms: number | null;
    category: string | null;
    decision: 'allowed' | 'denied';
    rule_id: string;
  },
): ChainAppendInput {
  return {
    ...envelope(row),
    event_type: 'outbound.attempt',
    actor: SENDER_ACTOR,
    capability_id: `connector:${row.connector_id}`,
    rule_id: data.rule_id,
    data: {
      outbox_id: row.id,
      connector_id: row.connector_id,
      attempt: row.attempts,
      max_attempts: row.max_attempts,
      outcome: data.outcome,
      status: data.status,
      latency_ms: data.latency_ms,
      category: data.category,
      policy_decision: data.decision,
    },
  };
}
