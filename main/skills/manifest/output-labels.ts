import type { Taint } from '../../../contracts/labels.ts';
import type { SkillListEntry, SkillOperation } from '../../../contracts/skills.ts';
import { UNKNOWN, label, type Label } from '../../policy/labels.ts';

/** The label, taint and named source an operation's output carries (docs/labels.md). */
export type OutputLabels = { label: Label; taint: Taint; source: string };

/**
 * What an operation's output carries. The label is the manifest's `output_label`, or
 * UNKNOWN when it declares none. The taint is `untrusted` for anything that may have come
 * from outside: a declarative operation (an HTTP response), or any operation that can reach
 * the network — a skill author cannot vouch for what a server sends, so `output_taint:
 * trusted` there is ignored rather than believed.
 */
export function outputLabelsOf(skill: SkillListEntry, op: SkillOperation): OutputLabels {
  const reachesNetwork =
    op.http !== undefined ||
    op.capabilities.some((c) => c.startsWith('net.')) ||
    skill.permissions.egress.length > 0;
  const taint: Taint = reachesNetwork ? 'untrusted' : (op.output_taint ?? 'trusted');
  return {
    label: op.output_label === undefined ? UNKNOWN : label(op.output_label),
    taint,
    source: `skill ${skill.skill_id}@${skill.version} op ${op.id}`,
  };
}
