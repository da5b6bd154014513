import { createHash } from 'node:crypto';
import type { ChainAppendInput } from './causal-chain.ts';

/** One request the host is about to send out of the machine, and on whose behalf. */
export type EgressAttempt = {
  url: URL;
  method: string;
  /** What the request is for, e.g. `skill_load.fetch`: the reader of the chain sees why. */
  purpose: string;
  /** The gate that let it out (an allowlist, an approval), or null when none applies. */
  rule_id: string | null;
  actor: string;
  correlation_id?: string | null;
  session_id?: string | null;
  run_id?: string | null;
  step_id?: string | null;
  capability_id?: string | null;
  capability_version?: string | null;
};

/**
 * The `egress.attempt` chain entry for a request, written (committed) before the request
 * leaves: an audit that is written after the fact misses the requests that hung or crashed
 * the host. The chain keeps the origin and path but only a digest of the full URL: a query
 * string is where a prompt-injected agent hides what it exfiltrates, and the chain is
 * append-only (the approval that showed the URL keeps it, where retention can reach it).
 */
export function egressAttemptEntry(attempt: EgressAttempt): ChainAppendInput {
  return {
    event_type: 'egress.attempt',
    actor: attempt.actor,
    correlation_id: attempt.correlation_id ?? null,
    session_id: attempt.session_id ?? null,
    run_id: attempt.run_id ?? null,
    step_id: attempt.step_id ?? null,
    capability_id: attempt.capability_id ?? null,
    capability_version: attempt.capability_version ?? null,
    rule_id: attempt.rule_id,
    data: {
      phase: 'before_request',
      purpose: attempt.purpose,
      method: attempt.method,
      origin: attempt.url.origin,
      path: attempt.url.pathname,
      query_chars: attempt.url.search.length,
      url_sha256: createHash('sha256').update(attempt.url.href).digest('hex'),
    },
  };
}
