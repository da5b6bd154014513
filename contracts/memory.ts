import { z } from 'zod';
import { labelAtomSchema, taintSchema } from './labels.ts';

/**
 * Who may read a memory item (issue 22, governed memory): the run that wrote it, every run of
 * its session, every run of its schedule or connector, the person only (`ui_only`: the UI
 * and the admin API, never an agent or a skill), or `namespace` — whoever the namespace itself
 * admits (a skill's own namespace, the person's shared ones), for items written outside any
 * run such as onboarding facts.
 */
export const memoryAudienceSchema = z.enum([
  'run',
  'session',
  'schedule',
  'connector',
  'ui_only',
  'namespace',
]);
export type MemoryAudience = z.infer<typeof memoryAudienceSchema>;

/** The audiences an agent may ask for when it writes (the others are the host's own). */
export const agentMemoryAudienceSchema = memoryAudienceSchema.exclude(['namespace']);
export type AgentMemoryAudience = z.infer<typeof agentMemoryAudienceSchema>;

/** What wrote an item: a skill (with its version), a transform, an agent run, a person, the host. */
export const memorySourceSchema = z.strictObject({
  kind: z.enum(['skill', 'transform', 'agent', 'person', 'host']),
  id: z.string(),
  version: z.string().nullable(),
});
export type MemorySource = z.infer<typeof memorySourceSchema>;

/** A memory item as the admin API shows it; `value` is redacted (by the redactor and by label). */
export const memoryItemSchema = z.strictObject({
  id: z.string(),
  namespace: z.string(),
  key: z.string(),
  /** Shown only when the label allows it: `pii.*` to admin only, never a secret. */
  value: z.unknown(),
  /** True when `value` was withheld or masked because of its label. */
  value_withheld: z.boolean(),
  /** The item's label as its atoms (`[]` is public). */
  label: z.array(labelAtomSchema),
  taint: taintSchema,
  source: memorySourceSchema,
  run_id: z.string().nullable(),
  step_id: z.string().nullable(),
  session_id: z.string().nullable(),
  audience: memoryAudienceSchema,
  /** The run, session, schedule or connector the audience is bound to; null when unbound. */
  audience_id: z.string().nullable(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type MemoryItem = z.infer<typeof memoryItemSchema>;

/** `GET /v1/memory`: every filter optional; expired items are included only when asked. */
export const memoryListQuerySchema = z.strictObject({
  run_id: z.string().min(1).max(100).optional(),
  session_id: z.string().min(1).max(100).optional(),
  namespace: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type MemoryListQuery = z.infer<typeof memoryListQuerySchema>;

export const memoryListSchema = z.strictObject({ items: z.array(memoryItemSchema) });

/** `POST /v1/memory/purge`: exactly one scope. */
export const memoryPurgeRequestSchema = z.union([
  z.strictObject({ run_id: z.string().min(1).max(100) }),
  z.strictObject({ session_id: z.string().min(1).max(100) }),
  z.strictObject({ namespace: z.string().min(1).max(200) }),
]);
export type MemoryPurgeRequest = z.infer<typeof memoryPurgeRequestSchema>;

export const memoryPurgeResultSchema = z.strictObject({ purged: z.number().int().min(0) });
export type MemoryPurgeResult = z.infer<typeof memoryPurgeResultSchema>;

/** A namespace a policy pack shares between runs, and the widest audience a write to it may have. */
export const sharedMemoryNamespaceSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and - only'),
  /** Agents' writes get this audience unless they ask for a narrower one. */
  audience: agentMemoryAudienceSchema.default('session'),
});
export type SharedMemoryNamespace = z.infer<typeof sharedMemoryNamespaceSchema>;
