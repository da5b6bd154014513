import { z } from 'zod';
import { grantRequestSchema } from './grant-request.ts';

/** Approval kinds: the security contract's types plus the project's (ARCHITECTURE.md §3). */
export const approvalKindSchema = z.enum([
  'channel',
  'capability',
  'secret_write',
  'policy_exception',
  'declassify',
  'human_action',
  'operation',
  'budget',
  'missing_input',
]);
export type ApprovalKind = z.infer<typeof approvalKindSchema>;

/**
 * `expired`: closed without a decision — its run ended (cancelled, failed, done) or its time
 * ran out. It counts as a refusal, never as a grant.
 */
export const approvalStateSchema = z.enum(['pending', 'approved', 'denied', 'modified', 'expired']);
export type ApprovalState = z.infer<typeof approvalStateSchema>;

/** One line of "what this approval would grant". */
export const permissionChangeSchema = z.strictObject({
  permission: z.string(),
  from: z.unknown().optional(),
  to: z.unknown(),
});

export const approvalSchema = z.strictObject({
  id: z.string(),
  run_id: z.string(),
  step_id: z.string(),
  kind: approvalKindSchema,
  /** What the approval covers (e.g. an operation id, a secret name, a budget kind). */
  scope: z.string(),
  /** Why the requester asks, in words a person can judge. */
  justification: z.string(),
  permission_diff: z.array(permissionChangeSchema),
  /** The request as shown to the person: already redacted. */
  request: z.record(z.string(), z.unknown()),
  state: approvalStateSchema,
  decided_by: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: z.string(),
  decided_at: z.string().nullable(),
  /** Fields the person supplied (missing_input, human_action), validated against the form. */
  answer: z.record(z.string(), z.unknown()).nullable(),
  /** When the one call this approval covered was executed; a consumed approval is spent. */
  consumed_at: z.string().nullable(),
  /**
   * When a pending approval expires as a refusal (its policy pack's `approval_timeout_ms`);
   * null when it waits until someone decides or its run ends.
   */
  expires_at: z.string().nullable(),
  /** Milliseconds left before it expires, as of this answer; null when it does not expire or is decided. */
  expires_in_ms: z.number().int().min(0).nullable(),
});
export type Approval = z.infer<typeof approvalSchema>;

export const approvalDecisionInputSchema = z.discriminatedUnion('decision', [
  z.strictObject({
    decision: z.literal('approve'),
    reason: z.string().max(2000).optional(),
    /** For missing_input and human_action approvals: the fields the form asks for. */
    answer: z.record(z.string(), z.unknown()).optional(),
    /** For operation approvals: also let later calls of the same operation through (issue 22). */
    grant: grantRequestSchema.optional(),
  }),
  z.strictObject({ decision: z.literal('deny'), reason: z.string().max(2000).optional() }),
  z.strictObject({
    decision: z.literal('modify'),
    /** The narrower scope the person grants instead of the one asked for. */
    scope: z.string().min(1).max(2000),
    reason: z.string().max(2000).optional(),
  }),
]);
export type ApprovalDecisionInput = z.infer<typeof approvalDecisionInputSchema>;

/** One field of a form shown to the person (missing input, human action), from a JSON Schema. */
export const formFieldSchema = z.strictObject({
  name: z.string(),
  type: z.enum(['string', 'number', 'integer', 'boolean']),
  description: z.string().nullable(),
  required: z.boolean(),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).nullable(),
});
export type FormField = z.infer<typeof formFieldSchema>;
