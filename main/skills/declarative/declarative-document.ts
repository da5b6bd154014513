import { z } from 'zod';
import {
  approvalModeSchema,
  httpMethodSchema,
  jsonSchemaObjectSchema,
} from '../../../contracts/skills.ts';
import { labelInputSchema } from '../../../contracts/labels.ts';

/**
 * The normalised form of a declarative skill document (`skill.yaml`, or what the Markdown
 * reader extracts from a `skill.md`), before it is compiled into a manifest. Both readers
 * produce this shape, so the fail-fast contract is applied once (docs/declarative-skills.md).
 */

/** Where an operation parameter goes in the HTTP request. */
export const PARAMETER_LOCATIONS = ['path', 'query', 'body'] as const;

/** JSON Schema types a parameter may have without a full `schema`. */
export const PARAMETER_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'array',
  'object',
] as const;

/** A secret name, as `ccos secrets set` stores it. */
const secretNameSchema = z
  .string()
  .regex(
    /^[A-Z][A-Z0-9_]{0,63}$/,
    'must be an UPPER_SNAKE_CASE secret name, e.g. MOLTBOOK_API_KEY',
  );

export const declarativeParameterSchema = z.strictObject({
  /** The input field; also the JSON body key or query name. */
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain field name: letters, digits, _'),
  /** Default: `path` when the path template names it, `query` for GET/HEAD/DELETE, else `body`. */
  in: z.enum(PARAMETER_LOCATIONS).optional(),
  description: z.string().max(1024).optional(),
  required: z.boolean().optional(),
  type: z.enum(PARAMETER_TYPES).optional(),
  enum: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .min(1)
    .optional(),
  /** A full JSON Schema for the field instead of `type`/`enum`. */
  schema: jsonSchemaObjectSchema.optional(),
});
export type DeclarativeParameter = z.infer<typeof declarativeParameterSchema>;

export const declarativeOperationSchema = z.strictObject({
  /** Checked against the manifest's operation id rule; derived from method and path when absent. */
  id: z.string().min(1).optional(),
  method: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), httpMethodSchema),
  /** Path template under `base_url`, e.g. `/posts/{id}/comments`. */
  path: z
    .string()
    .max(1024)
    .regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/{}%]*$/, 'must be a path starting with "/"'),
  description: z.string().min(1, 'is empty').max(1024),
  parameters: z.array(declarativeParameterSchema).default([]),
  /** `none` for calls made before there is a key (e.g. registration). */
  auth: z.enum(['bearer', 'none']).optional(),
  approval: approvalModeSchema.default('policy'),
  capabilities: z.array(z.string().min(1)).min(1).optional(),
  /** The label of the response (docs/labels.md); absent, unknown. Its taint is always untrusted. */
  output_label: labelInputSchema.optional(),
});
export type DeclarativeOperation = z.infer<typeof declarativeOperationSchema>;

export const declarativeAuthSchema = z.strictObject({
  type: z.literal('bearer'),
  /** The secret whose value the host puts in `Authorization: Bearer …`. */
  secret: secretNameSchema,
});

/** Top-level fields. Unknown top-level keys (homepage, metadata, …) are ignored on purpose:
 *  published documents carry them for other tools; operations are strict. */
export const declarativeDocumentSchema = z.object({
  skill_id: z.string().optional(),
  name: z.string().min(1).max(100).optional(),
  version: z.string().optional(),
  description: z.string().min(1, 'is empty').max(2000),
  base_url: z.string().min(1),
  auth: declarativeAuthSchema.optional(),
  operations: z.array(declarativeOperationSchema),
  memory_namespaces: z.array(z.string()).optional(),
  /** Checked on its own (compile-onboarding.ts), against the compiled operations. */
  onboarding: z.unknown().optional(),
});
export type DeclarativeDocument = z.infer<typeof declarativeDocumentSchema>;
