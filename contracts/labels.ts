import { z } from 'zod';

/**
 * Confidentiality labels of the chat security contract (CHAT-SECURITY-CONTRACT.md, "Labels on
 * values"). `public` is the bottom of the lattice and is never stored as an atom: a value's
 * label is the set of its most restrictive atoms, `[]` meaning public (docs/labels.md).
 */
export const labelAtomSchema = z.enum([
  'pii.redacted',
  'pii.chat.message',
  'pii.chat.metadata',
  'pii.attachment',
  'secret.token',
  'internal.system',
]);
export type LabelAtom = z.infer<typeof labelAtomSchema>;

/** A label as written by people and packs: `public`, one atom, or several (their join). */
export const labelInputSchema = z.union([
  z.literal('public'),
  labelAtomSchema,
  z.array(z.union([z.literal('public'), labelAtomSchema])).max(8),
]);
export type LabelInput = z.infer<typeof labelInputSchema>;

/** Integrity: anything from outside the host (a feed, a page, a skill's HTTP response) is untrusted. */
export const taintSchema = z.enum(['trusted', 'untrusted']);
export type Taint = z.infer<typeof taintSchema>;
