import { z } from 'zod';

export const tokenKindSchema = z.enum(['admin', 'connector', 'agent_session']);
export type TokenKind = z.infer<typeof tokenKindSchema>;

/**
 * What a non-admin token may do. Admin tokens may do everything; only admin tokens
 * decide approvals and manage tokens, whatever scopes another token lists.
 */
export const tokenScopeSchema = z.enum([
  'runs:create',
  'runs:read',
  'runs:cancel',
  'events:post',
  'mcp',
]);
export type TokenScope = z.infer<typeof tokenScopeSchema>;

/** A connector's id: a slug (also the `connector:<id>` actor of its tokens). */
export const connectorIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_" only');

/** A token as listed: never its secret. */
export const tokenInfoSchema = z.strictObject({
  id: z.string(),
  kind: tokenKindSchema,
  label: z.string(),
  scopes: z.array(tokenScopeSchema),
  connector_id: z.string().nullable(),
  run_id: z.string().nullable(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export const createTokenInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('admin'),
    label: z.string().min(1).max(200),
    expires_in_s: z
      .number()
      .int()
      .positive()
      .max(366 * 24 * 3600)
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('connector'),
    label: z.string().min(1).max(200),
    connector_id: connectorIdSchema,
    scopes: z.array(tokenScopeSchema).max(10),
    expires_in_s: z
      .number()
      .int()
      .positive()
      .max(366 * 24 * 3600)
      .optional(),
  }),
]);
export type CreateTokenInput = z.infer<typeof createTokenInputSchema>;

/** Returned once, at creation: the only time the secret is shown. */
export const createdTokenSchema = z.strictObject({
  token: z.string(),
  info: tokenInfoSchema,
});
export type CreatedToken = z.infer<typeof createdTokenSchema>;
