import type { Taint } from '../../contracts/labels.ts';
import { join, joinTaint, UNKNOWN, type Label } from '../policy/labels.ts';

/** What a run's agent has read from memory in this segment: the join of labels and taints. */
export type AgentReads = { label: Label; taint: Taint };

/**
 * The label and taint of what an agent writes to memory. The agent writes from its context
 * window, which may hold anything the run has seen; until the taint part (issue 22) tracks
 * the window, the write is labelled conservatively: at least UNKNOWN (personal data), joined
 * with every label it read from memory this segment, and untrusted — nothing says the
 * window holds only trusted text. This is the seam the taint tracker replaces.
 */
export function agentWriteLabel(reads: AgentReads): { label: Label; taint: Taint } {
  return { label: join(UNKNOWN, reads.label), taint: joinTaint('untrusted', reads.taint) };
}
