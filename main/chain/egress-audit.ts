import { createHash, randomUUID } from 'node:crypto';
import type { CausalChain, ChainAppendInput } from './causal-chain.ts';

/**
 * Where an audited action happened: the contract's common envelope (the chain adds the
 * event id, type and time). `step_id` null means "no step" (the chain writes a synthetic
 * one); `policy_pack_version` is the run's pack, left out only where no run is involved.
 */
export type AuditEnvelope = {
  session_id: string | null;
  run_id: string | null;
  step_id: string | null;
  correlation_id: string | null;
  policy_pack_version?: string;
};

/** An envelope for work no run asked for (the host's own calls, tests). */
export const NO_RUN_ENVELOPE: AuditEnvelope = {
  session_id: null,
  run_id: null,
  step_id: null,
  correlation_id: null,
};

/** Who sends a request: the actor on its entries, and the capability involved, if any. */
export type EgressSender = {
  actor: string;
  capability_id?: string | null;
  capability_version?: string | null;
};

/** One request about to leave the host. */
export type EgressTarget = {
  /** Links the attempt to its outcome; unique per request (a redirect is a new request). */
  request_id: string;
  /** What sends it: `skill.http` (`ccos.http.fetch`), `skill.document` (loading a skill by URL)… */
  purpose: string;
  url: string;
  method: string;
  /** 0 for the request as asked, 1… for each redirect followed. */
  hop: number;
  /** Names (never values) of secrets the host injects into this request. */
  secrets?: readonly string[];
};

/** How a request ended: an HTTP answer (body read or refused), or no answer. */
export type EgressResult = {
  /** The HTTP status, when an answer came. */
  status?: number;
  /** Body bytes read. */
  bytes?: number;
  /** Why it failed (no answer, or the answer was refused: too large, cut off). */
  code?: string;
  message?: string;
};

/** A fresh id for `EgressTarget.request_id`. */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

/**
 * What the chain says about a destination. The origin in full (the audit must show where data
 * went); the path and query only as a digest and a length, because they can carry the data
 * itself (a URL is an exfiltration channel) and the chain is never purged.
 */
function targetData(target: EgressTarget): Record<string, unknown> {
  let origin: string;
  try {
    origin = new URL(target.url).origin;
  } catch {
    origin = '(not a URL)';
  }
  return {
    request_id: target.request_id,
    purpose: target.purpose,
    origin,
    method: target.method,
    hop: target.hop,
    url_sha256: createHash('sha256').update(target.url).digest('hex'),
    url_chars: target.url.length,
    secrets: [...(target.secrets ?? [])],
  };
}

/** The fields every entry of `sender` acting under `envelope` carries. */
export function envelopeEntry(
  sender: EgressSender,
  envelope: AuditEnvelope,
): Omit<ChainAppendInput, 'event_type'> {
  return {
    actor: sender.actor,
    capability_id: sender.capability_id ?? null,
    capability_version: sender.capability_version ?? null,
    session_id: envelope.session_id,
    run_id: envelope.run_id,
    step_id: envelope.step_id,
    correlation_id: envelope.correlation_id,
    ...(envelope.policy_pack_version === undefined
      ? {}
      : { policy_pack_version: envelope.policy_pack_version }),
  };
}

/** `egress.attempt`, written and committed before the request leaves. */
export function egressAttemptEntry(
  sender: EgressSender,
  envelope: AuditEnvelope,
  target: EgressTarget,
  ruleId: string | null = null,
): ChainAppendInput {
  return {
    ...envelopeEntry(sender, envelope),
    event_type: 'egress.attempt',
    rule_id: ruleId,
    data: { ...targetData(target), outcome: 'attempted' },
  };
}

/** `egress.outcome`: how the request the attempt with the same `request_id` announced ended. */
export function egressOutcomeEntry(
  sender: EgressSender,
  envelope: AuditEnvelope,
  target: EgressTarget,
  result: EgressResult,
): ChainAppendInput {
  return {
    ...envelopeEntry(sender, envelope),
    event_type: 'egress.outcome',
    data: {
      ...targetData(target),
      outcome: result.status === undefined ? 'failed' : 'answered',
      ...(result.status === undefined ? {} : { status: result.status }),
      ...(result.bytes === undefined ? {} : { bytes: result.bytes }),
      ...(result.code === undefined ? {} : { code: result.code }),
      ...(result.message === undefined ? {} : { message: result.message }),
    },
  };
}

/** `egress.attempt` for a request that was refused and never left (with the rule that refused it). */
export function egressRefusedEntry(
  sender: EgressSender,
  envelope: AuditEnvelope,
  target: EgressTarget,
  refusal: { rule_id: string; code: string; message: string },
): ChainAppendInput {
  return {
    ...envelopeEntry(sender, envelope),
    event_type: 'egress.attempt',
    rule_id: refusal.rule_id,
    data: {
      ...targetData(target),
      outcome: 'denied',
      code: refusal.code,
      message: refusal.message,
    },
  };
}

/** A recorded attempt: call `outcome` once the request has ended. */
export type EgressAttempt = { outcome: (result: EgressResult) => Promise<void> };

/**
 * The one way host code audits a request it sends for someone (ARCHITECTURE.md §6, contract
 * "Audit events"): `attempt` commits `egress.attempt` before the request leaves — if it
 * cannot be written, it throws and the request must not be sent — and the returned handle
 * commits `egress.outcome` after. Nothing here is best-effort.
 */
export class EgressAudit {
  readonly #chain: CausalChain;

  constructor(deps: { chain: CausalChain }) {
    this.#chain = deps.chain;
  }

  /** `ruleId`: the gate that let the request out (an allowlist, an approval), when one did. */
  async attempt(
    sender: EgressSender,
    envelope: AuditEnvelope,
    target: EgressTarget,
    ruleId: string | null = null,
  ): Promise<EgressAttempt> {
    await this.#chain.append(egressAttemptEntry(sender, envelope, target, ruleId));
    return {
      outcome: async (result) => {
        await this.#chain.append(egressOutcomeEntry(sender, envelope, target, result));
      },
    };
  }

  async refused(
    sender: EgressSender,
    envelope: AuditEnvelope,
    target: EgressTarget,
    refusal: { rule_id: string; code: string; message: string },
  ): Promise<void> {
    await this.#chain.append(egressRefusedEntry(sender, envelope, target, refusal));
  }
}
