import type { PolicyPack } from '../../contracts/policy.ts';
import { MAX_QUARANTINE_CONTENT_CHARS } from '../../contracts/quarantine.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The pack's quarantine block with every default filled in. */
export type ResolvedQuarantinePolicy = {
  ttl_ms: number;
  channel_ttl_ms: Readonly<Record<string, number>>;
  verifier_max_quote_words: number;
  verifier_max_output_chars: number;
  transform_max_input_chars: number;
  transform_time_limit_ms: number;
};

export const QUARANTINE_DEFAULTS: ResolvedQuarantinePolicy = {
  ttl_ms: 7 * DAY_MS,
  channel_ttl_ms: {},
  verifier_max_quote_words: 5,
  verifier_max_output_chars: 2000,
  transform_max_input_chars: MAX_QUARANTINE_CONTENT_CHARS,
  // Far above what the rules take on 1 MiB (under a second): only a stuck run reaches it.
  transform_time_limit_ms: 20_000,
};

export function quarantinePolicyOf(pack: PolicyPack): ResolvedQuarantinePolicy {
  // The pack's retention sets the TTL when its quarantine block does not (issue 22: xform):
  // `retention.quarantine_ttl_ms` was declared and read by nothing.
  const retained = pack.retention?.quarantine_ttl_ms;
  return {
    ...QUARANTINE_DEFAULTS,
    ...(retained === undefined ? {} : { ttl_ms: retained }),
    ...pack.quarantine,
  };
}

/** How long a blob from `channelId` is kept under `pack`. */
export function ttlFor(pack: PolicyPack, channelId: string): number {
  const policy = quarantinePolicyOf(pack);
  return Object.hasOwn(policy.channel_ttl_ms, channelId)
    ? (policy.channel_ttl_ms[channelId] ?? policy.ttl_ms)
    : policy.ttl_ms;
}
