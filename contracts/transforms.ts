import { z } from 'zod';
import { contentRefSchema } from './quarantine.ts';

/*
 * Transform capabilities (CHAT-SECURITY-CONTRACT.md, "Transform capabilities"): the only
 * road from quarantined raw content to an agent. Each output is schema-checked here and
 * labelled `pii.redacted`; only `ccos__declassify` can make one `public`.
 */

const SHORT_TEXT = z.string().max(200);

/** summarize → `{summary, topics?, tasks?}`. */
export const summarizeOutputSchema = z.strictObject({
  summary: z.string().min(1).max(2000),
  topics: z.array(SHORT_TEXT).max(10).optional(),
  tasks: z.array(SHORT_TEXT).max(20).optional(),
});
export type SummarizeOutput = z.infer<typeof summarizeOutputSchema>;

/** What extract recognises; identifiers appear only as their placeholder. */
export const entityKindSchema = z.enum([
  'date',
  'time',
  'amount',
  'email',
  'url',
  'phone',
  'handle',
]);

/** extract → entities and tasks. */
export const extractOutputSchema = z.strictObject({
  entities: z.array(z.strictObject({ kind: entityKindSchema, value: SHORT_TEXT })).max(100),
  tasks: z.array(SHORT_TEXT).max(20),
});
export type ExtractOutput = z.infer<typeof extractOutputSchema>;

/** redact → the text with every identifier replaced by a placeholder such as `[email]`. */
export const redactOutputSchema = z.strictObject({ text: z.string().max(1024 * 1024) });
export type RedactOutput = z.infer<typeof redactOutputSchema>;

/** One reason the redaction verifier fails an output. It never quotes the output or the source. */
export const verifierIssueSchema = z.strictObject({
  code: z.enum(['verbatim_quote', 'identifier', 'too_long']),
  /** For `identifier`: which class (`email`, `phone`, `url`, `handle`, `sender_id`, `channel_id`). */
  class: z.string().optional(),
  /** Where in the output's text (character offset), so a person can find it. */
  at: z.number().int().min(0).optional(),
  /** For `verbatim_quote`: how many consecutive source words; for `too_long`: the length. */
  length: z.number().int().min(0).optional(),
});
export type VerifierIssue = z.infer<typeof verifierIssueSchema>;

/** The redaction verifier's result. */
export const verifierResultSchema = z.strictObject({
  ok: z.boolean(),
  issues: z.array(verifierIssueSchema),
});
export type VerifierResult = z.infer<typeof verifierResultSchema>;

/** The transforms that dereference a pointer and produce an output. */
export const transformKindSchema = z.enum(['summarize', 'extract', 'redact']);
export type TransformKind = z.infer<typeof transformKindSchema>;

/** An output id: `tfo_` and 128 random bits in hex. */
export const transformOutputIdSchema = z
  .string()
  .regex(/^tfo_[0-9a-f]{32}$/, 'must be a transform_output_id (tfo_…)');

const JUSTIFICATION = z.string().min(1).max(500);

/** `ccos__transform_summarize|extract|redact`: which blob, and why the agent needs it. */
export const transformToolInputSchema = z.strictObject({
  content_ref: contentRefSchema,
  justification: JUSTIFICATION,
});

/** `ccos__transform_verify`: run the redaction verifier on one output's exact bytes. */
export const verifyToolInputSchema = z.strictObject({
  transform_output_id: transformOutputIdSchema,
  justification: JUSTIFICATION,
});

/** `ccos__declassify`: release one verified output as `public`, with a person's approval. */
export const declassifyToolInputSchema = z.strictObject({
  transform_output_id: transformOutputIdSchema,
  justification: JUSTIFICATION,
});
