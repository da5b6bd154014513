/**
 * Deterministic JSON for hashing, after RFC 8785 (JCS): object keys sorted by UTF-16 code
 * units, no whitespace, numbers in ECMAScript shortest form (what `JSON.stringify` emits
 * for finite numbers), strings escaped as `JSON.stringify` does. Values JCS cannot
 * represent (non-finite numbers, lone surrogates, undefined in arrays, functions, bigints)
 * are refused rather than silently changed, so two different inputs never hash alike.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$');
}

function serialize(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: non-finite number at ${where}`);
      // -0 and 0 are the same JSON number.
      return JSON.stringify(value);
    case 'string':
      if (!value.isWellFormed()) throw new TypeError(`canonicalJson: lone surrogate at ${where}`);
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) {
        // Array.from visits holes as undefined (refused below); `map` would skip them and
        // `join` would write `[1,,3]`, which is not JSON.
        return `[${Array.from(value, (v: unknown, i) => serialize(v, `${where}[${i}]`)).join(',')}]`;
      }
      return serializeObject(value as Record<string, unknown>, where);
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON at ${where}`);
  }
  throw new TypeError(`canonicalJson: unsupported value at ${where}`);
}

function serializeObject(obj: Record<string, unknown>, where: string): string {
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`canonicalJson: only plain objects are JSON at ${where}`);
  }
  const parts: string[] = [];
  // Default sort compares UTF-16 code units, which is exactly JCS's order.
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    if (!key.isWellFormed())
      throw new TypeError(`canonicalJson: lone surrogate in a key at ${where}`);
    parts.push(`${JSON.stringify(key)}:${serialize(v, `${where}.${key}`)}`);
  }
  return `{${parts.join(',')}}`;
}
