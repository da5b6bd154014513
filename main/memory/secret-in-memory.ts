import { includes, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';

/** Why a write would put a secret in memory, or undefined when it would not. */
export type SecretFinding = 'label' | 'value' | 'key';

/** Deep enough for any value a writer sends; deeper nesting is checked as JSON text. */
const MAX_DEPTH = 32;

/** Every string of a JSON-like value, object keys included. */
function* stringsOf(value: unknown, depth = 0): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (typeof value !== 'object' || value === null) return;
  else if (depth >= MAX_DEPTH) yield JSON.stringify(value);
  else if (Array.isArray(value)) for (const v of value) yield* stringsOf(v, depth + 1);
  else
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* stringsOf(v, depth + 1);
    }
}

/**
 * `secret.token` values live in the secret store and nowhere else (ARCHITECTURE.md §9): a
 * write is refused when its label says secret, and — whatever the label claims — when the
 * secret store's literal matcher (through the redactor) finds a known secret in its key or
 * in any string of its value, in any encoded form it knows. Each string is checked as is, so
 * a secret JSON would escape is still found. Refused, not redacted: a stored `[REDACTED]`
 * would silently lose what the writer meant; the refusal tells it to reference the name.
 */
export function secretInMemory(
  redactor: Redactor,
  key: string,
  value: unknown,
  label: Label,
): SecretFinding | undefined {
  if (includes(label, 'secret.token')) return 'label';
  if (redactor.holdsKnownValue(key)) return 'key';
  for (const text of stringsOf(value)) if (redactor.holdsKnownValue(text)) return 'value';
  return undefined;
}
