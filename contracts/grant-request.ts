import { z } from 'zod';

/**
 * What a person asks for when approving as a standing grant (issue 22). Apart from
 * `grants.ts` because the approval decision input carries it, and `grants.ts` needs the
 * approval schemas.
 */

/** Whose later calls a grant covers: this run's, or the runs of the schedule that started it. */
export const grantScopeSchema = z.enum(['run', 'schedule']);
export type GrantScope = z.infer<typeof grantScopeSchema>;

/** The most uses one grant may carry. */
export const GRANT_MAX_USES = 10_000;

/** What a person asks for when approving as a grant (`POST /v1/approvals/{id}`, `grant`). */
export const grantRequestSchema = z.strictObject({
  scope: grantScopeSchema,
  /** How many later calls the grant lets through (the call asked about runs on the approval itself). Absent: any number until it expires. */
  uses: z.number().int().min(1).max(GRANT_MAX_USES).optional(),
  /** When the grant ends; capped at the pack's `grants_max_ms` from now (default 30 days). Absent: that cap. */
  until: z.iso.datetime({ offset: true }).optional(),
});
export type GrantRequest = z.infer<typeof grantRequestSchema>;
