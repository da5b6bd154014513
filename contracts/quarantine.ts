import { z } from 'zod';
import { labelInputSchema, taintSchema } from './labels.ts';

/**
 * A quarantine pointer (`content_ref`): `q_` and 128 random bits in hex. Never sequential
 * and never an authorisation: a transform dereferences it only for a run of the session
 * the content was stored for (CHAT-SECURITY-CONTRACT.md, "Quarantine").
 */
export const contentRefSchema = z.string().regex(/^q_[0-9a-f]{32}$/, 'must be a content_ref (q_…)');
export type ContentRef = z.infer<typeof contentRefSchema>;

/** At most 1 MiB of raw text per blob (attachments come with the connectors issue). */
export const MAX_QUARANTINE_CONTENT_CHARS = 1024 * 1024;

/**
 * What the host-internal ingest takes: raw inbound content and who it came from. Host code
 * only (the connectors issue, tests); no HTTP route reads or writes raw quarantine content.
 */
export const quarantineIngestSchema = z.strictObject({
  session_id: z.string().min(1).max(200),
  sender_id: z.string().min(1).max(500),
  channel_id: z.string().min(1).max(200),
  content: z.string().max(MAX_QUARANTINE_CONTENT_CHARS),
  /** The blob's declared label; message text by default (the contract's inbound default). */
  label: labelInputSchema.default('pii.chat.message'),
  /** The pack whose TTL applies (the connector's); the default pack when absent. */
  policy_pack: z.string().min(1).max(100).optional(),
  /** Its integrity: `trusted` only for the person's own messages (the local chat). */
  taint: taintSchema.default('untrusted'),
});
export type QuarantineIngest = z.input<typeof quarantineIngestSchema>;

/** What a purge removes: one session's blobs, or everything one sender sent. */
export const quarantinePurgeSchema = z.discriminatedUnion('by', [
  z.strictObject({ by: z.literal('session'), session_id: z.string().min(1).max(200) }),
  z.strictObject({ by: z.literal('sender'), sender_id: z.string().min(1).max(500) }),
]);
export type QuarantinePurge = z.infer<typeof quarantinePurgeSchema>;

/** `ttl` purges are the sweep's; the others a person's (or the connector's) request. */
export const quarantinePurgeReasonSchema = z.enum(['session', 'sender', 'ttl']);

const TTL_MS = z
  .number()
  .int()
  .min(60 * 1000)
  .max(365 * 24 * 60 * 60 * 1000);

/**
 * The pack's quarantine and transform settings (issue 22). Every field has a default
 * (main/quarantine/quarantine-policy.ts), so a pack may leave the block out.
 */
export const quarantinePolicySchema = z.strictObject({
  /** How long raw content is kept when its channel names no TTL of its own. Default 7 days. */
  ttl_ms: TTL_MS.optional(),
  /** Per channel id, a TTL that replaces `ttl_ms`. */
  channel_ttl_ms: z.record(z.string().min(1).max(200), TTL_MS).optional(),
  /** Redaction verifier: the longest run of the source's words an output may repeat. Default 5. */
  verifier_max_quote_words: z.number().int().min(1).max(50).optional(),
  /** Redaction verifier: the longest output, in characters. Default 2000. */
  verifier_max_output_chars: z.number().int().min(1).max(100_000).optional(),
  // --- xform (issue 22) ---
  /**
   * The longest content a transform or the verifier reads, in characters; longer is refused
   * (`TRANSFORM_INPUT_TOO_LARGE`). Default and maximum: the quarantine's own 1 MiB.
   */
  transform_max_input_chars: z.number().int().min(1).max(MAX_QUARANTINE_CONTENT_CHARS).optional(),
  /** How long one transform or verifier run may take before it is stopped. Default 20 s. */
  transform_time_limit_ms: z
    .number()
    .int()
    .min(1)
    .max(10 * 60 * 1000)
    .optional(),
});
export type QuarantinePolicy = z.infer<typeof quarantinePolicySchema>;
