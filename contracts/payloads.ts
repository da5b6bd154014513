import { z } from 'zod';

/**
 * Payloads: what a run's calls carried (issue 17 #15). The causal chain keeps only a digest,
 * a size and a label of each; the content lives in a table retention can purge, and the
 * digest proves what was there.
 */

/** What a payload is: a tool call's input or outcome, an LLM call's prompt or answer. */
export const payloadKindSchema = z.enum([
  'tool.input',
  'tool.outcome',
  'llm.prompt',
  'llm.answer',
  /** A person's note to the run's agent (issue 24). */
  'run.note',
]);
export type PayloadKind = z.infer<typeof payloadKindSchema>;

/** The contract's labels (CHAT-SECURITY-CONTRACT.md "Labels on values"). */
export const valueLabelSchema = z.enum([
  'public',
  'pii.redacted',
  'pii.chat.message',
  'pii.chat.metadata',
  'pii.attachment',
  'secret.token',
  'internal.system',
]);
export type ValueLabel = z.infer<typeof valueLabelSchema>;

/** What the chain says about a payload: enough to prove it, nothing of its content. */
export const payloadRefSchema = z.strictObject({
  /** `sha256:` and the hex SHA-256 of the payload's stored JSON text. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** UTF-8 bytes of that text. */
  bytes: z.number().int().min(0),
  label: valueLabelSchema,
});
export type PayloadRef = z.infer<typeof payloadRefSchema>;

/** One payload of a run, in the order it was recorded. */
export const transcriptItemSchema = z.strictObject({
  id: z.number().int().positive(),
  step_id: z.string(),
  kind: payloadKindSchema,
  /** The tool (`<skill>__<operation>`) or the model the payload was for. */
  subject: z.string(),
  created_at: z.string(),
  ...payloadRefSchema.shape,
  /** The redacted content; null once purged. */
  content: z.unknown(),
  purged_at: z.string().nullable(),
});
export type TranscriptItem = z.infer<typeof transcriptItemSchema>;

export const transcriptSchema = z.strictObject({
  run_id: z.string(),
  items: z.array(transcriptItemSchema),
  /** Pass as `after_id` for the next page; null on the last page. */
  next_after_id: z.number().int().nullable(),
});
export type Transcript = z.infer<typeof transcriptSchema>;

export const purgeResultSchema = z.strictObject({
  run_id: z.string(),
  /** Payloads whose content was removed now (already purged ones are not counted). */
  purged: z.number().int().min(0),
  bytes: z.number().int().min(0),
});
export type PurgeResult = z.infer<typeof purgeResultSchema>;
