import { z } from 'zod';
import { approvalKindSchema, permissionChangeSchema } from './approvals.ts';
import { grantScopeSchema } from './grant-request.ts';

/**
 * Standing approvals (issue 22): a person who approves a call may let later calls of the
 * same operation, under the same permission diff, through without asking again. A grant is
 * never broader than what the approval showed, always expires and is revocable at once.
 */

/** `active` may be used; the others never are again. */
export const grantStateSchema = z.enum(['active', 'used_up', 'expired', 'revoked']);
export type GrantState = z.infer<typeof grantStateSchema>;

export const grantSchema = z.strictObject({
  id: z.string(),
  /** The approval a person decided as this grant. */
  approval_id: z.string(),
  kind: approvalKindSchema,
  scope: grantScopeSchema,
  /** The run whose approval made it; for a `run` grant, the only run it covers. */
  run_id: z.string(),
  /** For a `schedule` grant: the schedule whose runs it covers. */
  schedule_id: z.string().nullable(),
  /** `<skill>__<operation>`. */
  tool: z.string(),
  skill_id: z.string(),
  /** The skill version the person saw; an upgraded skill needs a new approval. */
  skill_version: z.string(),
  /** The permission diff the approval showed: the grant covers exactly this, no more. */
  permission_diff: z.array(permissionChangeSchema),
  /** Whether the approval was asked by the taint gate (only where the pack allows such grants). */
  taint_gated: z.boolean(),
  /** Null: any number of uses until it expires. */
  max_uses: z.number().int().min(1).nullable(),
  uses: z.number().int().min(0),
  expires_at: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_by: z.string().nullable(),
  last_used_at: z.string().nullable(),
  /** As of this answer (the host's clock). */
  state: grantStateSchema,
});
export type Grant = z.infer<typeof grantSchema>;

export const grantListSchema = z.strictObject({ grants: z.array(grantSchema) });

/**
 * What a grant made from an approval would match, kept with the approval when it is asked
 * (a database JSON column: parsed when read). `key` hashes everything else here but `tool`
 * and `operation_id`, which it covers through the permission diff and the skill.
 */
export const grantBasisSchema = z.strictObject({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  tool: z.string(),
  skill_id: z.string(),
  skill_version: z.string(),
  /** SHA-256 over the skill's manifest and code as loaded: a reinstall with other code is another skill. */
  skill_digest: z.string().regex(/^[0-9a-f]{64}$/),
  operation_id: z.string(),
  taint_gated: z.boolean(),
});
export type GrantBasis = z.infer<typeof grantBasisSchema>;
