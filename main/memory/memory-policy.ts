import type { SharedMemoryNamespace } from '../../contracts/memory.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import { join, label, UNKNOWN, type Label } from '../policy/labels.ts';

/** What a run's pack says about memory, with its defaults filled in. */
export type MemoryPolicy = {
  shared: readonly SharedMemoryNamespace[];
  agentReadable: Label;
  defaultTtlMs: number | null;
};

/** Unknown personal data and the host's own: what an agent may read when the pack says nothing. */
const DEFAULT_AGENT_READABLE = join(UNKNOWN, label('internal.system'));

export function memoryPolicyOf(pack: PolicyPack): MemoryPolicy {
  return {
    shared: pack.memory_shared_namespaces ?? [],
    agentReadable:
      pack.memory_agent_readable === undefined
        ? DEFAULT_AGENT_READABLE
        : label(pack.memory_agent_readable),
    // The pack's retention is the fallback (issue 22: xform): without it, `retention` was
    // declared for memory and read by nothing, and items lived for ever.
    defaultTtlMs: pack.memory_default_ttl_ms ?? pack.retention?.memory_default_expiry_ms ?? null,
  };
}

/**
 * Every label an item can have (`secret.token` is never stored): what a skill reading its own
 * namespace, and the person, may read.
 */
export const EVERY_STORABLE_LABEL: Label = join(
  UNKNOWN,
  label(['internal.system', 'pii.redacted']),
);
