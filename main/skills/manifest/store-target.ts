/** Where an onboarding value goes: a memory key, or a secret by name. */
export type StoreTarget =
  { kind: 'memory'; namespace: string; key: string } | { kind: 'secret'; name: string };

const MEMORY = /^memory:([A-Za-z][A-Za-z0-9_-]{0,63})\.([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;
const SECRET = /^secret:([A-Z][A-Z0-9_]{0,63})$/;
/** `{{memory.<ns>.<key>}}` in human_action instructions. */
export const PLACEHOLDER =
  /\{\{\s*([A-Za-z]+)\.([A-Za-z][A-Za-z0-9_-]*)\.([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Parses `memory:<ns>.<key>` / `secret:<NAME>`; undefined when it is neither. */
export function parseStoreTarget(to: string): StoreTarget | undefined {
  const memory = MEMORY.exec(to);
  if (memory !== null) return { kind: 'memory', namespace: memory[1] ?? '', key: memory[2] ?? '' };
  const secret = SECRET.exec(to);
  if (secret !== null) return { kind: 'secret', name: secret[1] ?? '' };
  return undefined;
}

/**
 * Resolves an RFC 6901 JSON pointer; undefined when a segment is missing. `''` is the
 * whole document.
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let current: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current) && /^(0|[1-9]\d*)$/.test(segment))
      current = current[Number(segment)];
    else if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment))
      current = (current as Record<string, unknown>)[segment];
    else return undefined;
  }
  return current;
}

/** A JSON pointer is `''` or `/`-separated segments where `~` is only `~0`/`~1`. */
export function isJsonPointer(pointer: string): boolean {
  return pointer === '' || /^(\/([^~/]|~[01])*)+$/.test(pointer);
}
