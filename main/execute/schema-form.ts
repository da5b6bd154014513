import type { FormField } from '../../contracts/approvals.ts';
import type { JsonSchemaObject } from '../../contracts/skills.ts';

const FORM_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * The form a person fills in for missing fields, derived from the operation's schema in
 * the flat shape MCP elicitation uses (primitives and enums only): name, type,
 * description, choices.
 */
export function formFor(schema: JsonSchemaObject, fields: readonly string[]): FormField[] {
  const properties = (schema.properties ?? {}) as Record<
    string,
    Record<string, unknown> | undefined
  >;
  return fields.map((name) => {
    const property = resolveLocalRef(schema, properties[name] ?? {});
    const type =
      typeof property.type === 'string' && FORM_TYPES.has(property.type) ? property.type : 'string';
    const choices = Array.isArray(property.enum)
      ? property.enum.filter((v): v is string | number | boolean =>
          ['string', 'number', 'boolean'].includes(typeof v),
        )
      : null;
    return {
      name,
      type: type as FormField['type'],
      description: typeof property.description === 'string' ? property.description : null,
      required: true,
      enum: choices,
    };
  });
}

/** A schema accepting exactly an answer to those fields: their own sub-schemas, nothing else. */
export function answerSchema(
  schema: JsonSchemaObject,
  fields: readonly string[],
): JsonSchemaObject {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  return {
    type: 'object',
    properties: Object.fromEntries(fields.map((f) => [f, properties[f] ?? {}])),
    required: [...fields],
    additionalProperties: false,
    // Local `$ref`s in those sub-schemas point here; without them the answer cannot compile.
    ...(schema.$defs === undefined ? {} : { $defs: schema.$defs }),
    ...(schema.definitions === undefined ? {} : { definitions: schema.definitions }),
  };
}

/** A property given as `{ "$ref": "#/$defs/<name>" }` (or `#/definitions/…`), looked up once. */
function resolveLocalRef(
  schema: JsonSchemaObject,
  property: Record<string, unknown>,
): Record<string, unknown> {
  const ref = typeof property.$ref === 'string' ? property.$ref : undefined;
  const match = ref === undefined ? null : /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (match === null) return property;
  const defs = schema[match[1] ?? ''] as Record<string, unknown> | undefined;
  const target = defs?.[match[2] ?? ''];
  return typeof target === 'object' && target !== null
    ? { ...(target as Record<string, unknown>), ...property }
    : property;
}

/**
 * The problems of a refused answer, each naming its form field (`answer.<field>`). Ajv
 * reports a missing or an extra property at the root without naming it; the person needs
 * to know which field to fix.
 */
export function answerProblems(
  problems: readonly string[],
  missing: readonly string[],
  fields: readonly string[],
  given: Record<string, unknown>,
): { path: string; message: string }[] {
  const asked = new Set(fields);
  const named = problems.flatMap((p) => {
    const [where = '(root)', ...rest] = p.split(': ');
    const message = rest.join(': ');
    if (where !== '(root)') return [{ path: `answer${where.replaceAll('/', '.')}`, message }];
    // Root problems of the answer schema are the ones listed by field below.
    return /required property|additional properties/.test(message)
      ? []
      : [{ path: 'answer', message }];
  });
  return [
    ...missing.map((f) => ({ path: `answer.${f}`, message: 'is required by the form' })),
    ...Object.keys(given)
      .filter((k) => !asked.has(k))
      .map((k) => ({ path: `answer.${k}`, message: 'is not a field of this form' })),
    ...named,
  ];
}
