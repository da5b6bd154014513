import { includes, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';

/** Why a write would put a secret in memory, or undefined when it would not. */
export type SecretFinding = 'label' | 'value' | 'key';

/**
 * `secret.token` values live in the secret store and nowhere else (ARCHITECTURE.md §9): a
 * write is refused when its label says secret, and — whatever the label claims — when the
 * redactor would change its key or value: a known secret (in any encoded form the literal
 * matcher knows) or a credential shape. Refused, not redacted: a stored `[REDACTED]` would
 * silently lose what the writer meant, and the refusal tells it to reference the secret by name.
 */
export function secretInMemory(
  redactor: Redactor,
  key: string,
  value: unknown,
  label: Label,
): SecretFinding | undefined {
  if (includes(label, 'secret.token')) return 'label';
  if (redactor.redactString(key) !== key) return 'key';
  const text = JSON.stringify(value ?? null);
  if (redactor.holdsKnownValue(text)) return 'value';
  if (JSON.stringify(redactor.redactValue(value ?? null)) !== text) return 'value';
  return undefined;
}
