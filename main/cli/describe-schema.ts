import type { JsonSchemaObject } from '../../contracts/skills.ts';

/**
 * An operation's input schema as a person reads it: one line per top-level property with
 * its type, whether it is required, what it is for, its allowed values and where the host
 * may fill it from. Deeper structure is summarised (`object`, `array of string`); `--json`
 * prints the whole schema.
 */
export function describeSchema(schema: JsonSchemaObject): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as unknown[]) : []);
  const names = Object.keys(properties);
  if (names.length === 0) return ['(no parameters)'];
  return names.map((name) => {
    const p = properties[name] ?? {};
    const parts = [
      `${name}: ${typeOf(p)}`,
      required.has(name) ? 'required' : 'optional',
      ...(Array.isArray(p.enum)
        ? [`one of ${p.enum.map((v) => JSON.stringify(v)).join(', ')}`]
        : []),
      ...(typeof p['x-ccos-autofill'] === 'string' ? [`filled from ${p['x-ccos-autofill']}`] : []),
    ];
    const description = typeof p.description === 'string' ? ` — ${p.description}` : '';
    return `${parts.join(', ')}${description}`;
  });
}

function typeOf(property: Record<string, unknown>): string {
  const type = property.type;
  if (type === 'array') {
    const items = property.items as Record<string, unknown> | undefined;
    return `array of ${items === undefined ? 'anything' : typeOf(items)}`;
  }
  if (Array.isArray(type)) return type.join(' | ');
  if (typeof type === 'string') return type;
  if (typeof property.$ref === 'string') return property.$ref.split('/').pop() ?? 'object';
  return 'any';
}
