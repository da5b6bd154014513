/**
 * The `rule_id`s governed memory names on its `policy.decision` entries (issue 22). Stable:
 * packs, tests and people's audit queries match on them.
 */
export const MEMORY_RULES = {
  /** A secret is never stored: by its label or by the redactor finding a known secret in it. */
  noSecret: 'constitution.no_secret_in_memory',
  /** The namespace is not one the writer or reader may use (undeclared, or another's). */
  namespace: 'memory.namespace',
  /** The write asked for an audience wider than the namespace allows. */
  audience: 'memory.audience',
  /** Items exist under the key but their label is above what the reader may read. */
  label: 'memory.label',
  /** An agent's write asked from an untrusted window that a person refused (or cannot be asked about). */
  taintGate: 'taint.gate',
} as const;
export type MemoryRuleId = (typeof MEMORY_RULES)[keyof typeof MEMORY_RULES];
