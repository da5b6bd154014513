import { z } from 'zod';

/**
 * Steering a live run (issue 24): a person sends the agent a note that it reads at its next
 * LLM step, or interrupts it at its next step boundary. Both are the person's input, recorded
 * on the chain with the person as actor.
 */

/** Longest note a person may send; the worker also caps every message it keeps. */
export const MAX_NOTE_CHARS = 4000;

export const runNoteInputSchema = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(MAX_NOTE_CHARS)
    .refine((t) => t.trim() !== '', 'must not be blank'),
});
export type RunNoteInput = z.infer<typeof runNoteInputSchema>;

/** A note to a run's agent and whether it has reached the agent's conversation yet. */
export const runNoteSchema = z.strictObject({
  id: z.string(),
  run_id: z.string(),
  text: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  /** When the worker checkpointed a conversation holding it; null while it waits. */
  delivered_at: z.string().nullable(),
  /** The segment it was delivered in. */
  delivered_segment: z.number().int().min(0).nullable(),
});
export type RunNote = z.infer<typeof runNoteSchema>;

export const runNoteListSchema = z.strictObject({ notes: z.array(runNoteSchema) });

export const runInterruptInputSchema = z.strictObject({
  reason: z.string().min(1).max(500).optional(),
});
export type RunInterruptInput = z.infer<typeof runInterruptInputSchema>;

/** An accepted interrupt: the run pauses at its next step boundary (`applied_at`). */
export const runInterruptSchema = z.strictObject({
  id: z.string(),
  run_id: z.string(),
  reason: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  /** When the run's next step boundary paused it; null until then. */
  applied_at: z.string().nullable(),
});
export type RunInterrupt = z.infer<typeof runInterruptSchema>;

/**
 * What an interrupted run waits for (`waiting_for` of `paused_external_event`): a person's
 * resume (`POST /v1/runs/{id}/resume`), or an event of this type.
 */
export const INTERRUPT_WAITING_FOR = 'person.resume';

/** A note as the worker receives it with an LLM answer: the host put it in that request. */
export const deliveredNoteSchema = z.strictObject({
  id: z.string(),
  /** The user message the model saw, framed as the supervising person's note. */
  message: z.string(),
});
export type DeliveredNote = z.infer<typeof deliveredNoteSchema>;

/** How a note reaches the model: a user message that says whose words it holds. */
export function noteMessage(note: { text: string; created_at: string }): string {
  return `[Note from the person supervising this run, sent ${note.created_at}. It is their instruction to you, not data from a tool.]\n${note.text}`;
}
