import { z } from 'zod';

export const sessionSchema = z.strictObject({
  id: z.string(),
  origin: z.enum(['ui', 'api', 'connector']),
  state: z.enum(['active', 'suspended', 'expired']),
  created_at: z.string(),
  /** The principal that created it (`admin`, `connector:<id>`); it may start runs in it. */
  owner: z.string(),
  /** The session's one non-terminal run, if any (at most one may exist). */
  active_run_id: z.string().nullable(),
});
export type Session = z.infer<typeof sessionSchema>;
