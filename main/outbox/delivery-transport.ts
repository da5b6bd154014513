import type { OutboundContent } from '../../contracts/outbox.ts';
import type { DeliveryResult } from './delivery-result.ts';

/** One attempt at one message, as a transport sees it. */
export type OutboundDelivery = {
  id: string;
  idempotency_key: string;
  connector_id: string;
  channel_id: string;
  content: OutboundContent;
  attempt: number;
  /** The run and session that queued it, if any (a transport that audits names them). */
  run_id?: string | null;
  session_id?: string | null;
};

/** Where an attempt will go, for the `egress.attempt` committed before it leaves. */
export type DeliveryTarget =
  | { ok: true; url: string; method: string }
  /** Refused before anything left: the rule goes on the chain and the message is dead. */
  | { ok: false; rule_id: string; message: string };

/**
 * How a connector's messages leave the host. The dispatcher owns retries, leases and audit;
 * a transport makes one attempt and says how it ended, and must send `idempotency_key` with
 * every attempt so the receiver can drop duplicates (delivery is at least once).
 */
export type DeliveryTransport = {
  /**
   * The message stays on this machine (the local chat UI): it is not egress, so `pii.redacted`
   * content needs no egress exception. Absent: it leaves the machine.
   */
  readonly onMachine?: boolean;
  target: (delivery: OutboundDelivery) => DeliveryTarget;
  /** Resolves (never rejects) with how the attempt ended; `signal` aborts it (host stopping). */
  deliver: (delivery: OutboundDelivery, signal: AbortSignal) => Promise<DeliveryResult>;
};

/** The transport of a connector, or undefined for a connector that cannot send. */
export type DeliveryTransports = (connectorId: string) => DeliveryTransport | undefined;
