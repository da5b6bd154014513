import type { LabelAtom } from '../../contracts/labels.ts';
import type { DestinationKind, PolicyDecision, PolicyPack } from '../../contracts/policy.ts';
import { describeLabel, label, leq, type Label } from './labels.ts';

/**
 * The rules no policy pack can relax (CHAT-SECURITY-CONTRACT.md, "Egress" and "Activation").
 * They live in code, not in a pack: `decide` and `labelAllowed` apply them before any pack
 * rule, and a pack whose rules would relax one is refused at load (`constitutionIssues`),
 * so a file that reads as if it allowed a secret out never gets loaded at all.
 */
export const CONSTITUTION = {
  secret_never_egress: {
    rule_id: 'constitution.secret_never_egress',
    text: 'secret.token never goes to a remote LLM, the network or an outbound connector',
  },
  no_secret_in_memory: {
    rule_id: 'constitution.no_secret_in_memory',
    text: 'secret.token is never stored in memory: memory references the secret store by name',
  },
  metadata_never_leaves: {
    rule_id: 'constitution.metadata_never_leaves',
    text: 'pii.chat.metadata (senders, channels, threads, timestamps) never leaves the host',
  },
  pii_egress_needs_approval: {
    rule_id: 'constitution.pii_egress_needs_approval',
    text: 'pii.* leaves the host only under an egress exception, with a person’s approval each time',
  },
  no_side_effect_before_approval: {
    rule_id: 'constitution.no_side_effect_before_approval',
    text: 'what needs an approval runs only after it: no pack rule waives an approval',
  },
  declassify_needs_verifier: {
    rule_id: 'constitution.declassify_needs_verifier',
    text: 'pii.* becomes public only with a per-run declassify approval and a passing verifier on the exact output',
  },
  activation_needs_trigger: {
    rule_id: 'constitution.activation_needs_trigger',
    text: 'an agent wakes only on a direct message, a mention or a keyword, never on every message',
  },
  group_activation_needs_allowlist: {
    rule_id: 'constitution.group_activation_needs_allowlist',
    text: 'a mention or keyword wakes an agent only from senders on an allowlist',
  },
} as const;

export type ConstitutionRule = (typeof CONSTITUTION)[keyof typeof CONSTITUTION];

/** Destinations outside the host: data sent there has left the person's machine. */
export const LEAVING: ReadonlySet<DestinationKind> = new Set([
  'remote_llm',
  'network_egress',
  'outbound_connector',
]);

/** One atom of a label, or `public` for the empty label: what label rules decide about. */
export type LabelUnit = LabelAtom | 'public';

/**
 * How far the constitution lets a unit of data go to a destination: `deny` (never), `ask`
 * (only through an egress exception, so with an approval), or undefined (the pack decides).
 */
export function constitutionFloor(
  unit: LabelUnit,
  destination: DestinationKind,
): { at_most: 'deny' | 'ask'; rule: ConstitutionRule } | undefined {
  if (unit === 'secret.token') {
    if (LEAVING.has(destination))
      return { at_most: 'deny', rule: CONSTITUTION.secret_never_egress };
    if (destination === 'memory')
      return { at_most: 'deny', rule: CONSTITUTION.no_secret_in_memory };
    return undefined;
  }
  if (!LEAVING.has(destination)) return undefined;
  if (unit === 'pii.chat.metadata')
    return { at_most: 'deny', rule: CONSTITUTION.metadata_never_leaves };
  if (unit.startsWith('pii.'))
    return { at_most: 'ask', rule: CONSTITUTION.pii_egress_needs_approval };
  return undefined;
}

/**
 * `constitution.declassify_needs_verifier`: whether a `pii.*` → `public` downgrade may
 * happen. Both halves are needed; a person's approval alone releases nothing. For the
 * declassify path to call with what it checked, and record under the rule this returns.
 */
export function declassifyDecision(evidence: {
  approved: boolean;
  verifier_ok: boolean;
}): PolicyDecision {
  const rule = CONSTITUTION.declassify_needs_verifier;
  if (evidence.approved && evidence.verifier_ok)
    return { effect: 'allow', rule_id: rule.rule_id, reason: 'approved, and the verifier passed' };
  const missing = [
    ...(evidence.approved ? [] : ['a declassify approval']),
    ...(evidence.verifier_ok ? [] : ['a passing verifier run on the exact output']),
  ].join(' and ');
  return { effect: 'deny', rule_id: rule.rule_id, reason: `declassifying needs ${missing}` };
}

/** A constitution problem in a pack, at the field to blame, naming the rule it would relax. */
export type ConstitutionIssue = { path: readonly PropertyKey[]; message: string };

const ATOMS_TO_CHECK: readonly LabelAtom[] = [
  'secret.token',
  'pii.chat.metadata',
  'pii.chat.message',
  'pii.attachment',
  'pii.redacted',
];
const ALL_DESTINATIONS: readonly DestinationKind[] = [
  'remote_llm',
  'local_llm',
  'network_egress',
  'outbound_connector',
  'memory',
];

/**
 * Every place a pack tries to relax the constitution: an allow rule, a label rule or an
 * egress exception that would let data through where the constitution does not, an
 * exception that needs no approval, or an activation rule that wakes an agent too easily.
 */
export function constitutionIssues(pack: PolicyPack): ConstitutionIssue[] {
  const issues: ConstitutionIssue[] = [];
  const refuse = (path: readonly PropertyKey[], rule: ConstitutionRule, what: string): void => {
    issues.push({ path, message: `${what} would relax ${rule.rule_id}: ${rule.text}` });
  };
  // What an allowing rule over `covered` to `destinations` would let through, and may not.
  const relaxed = (
    covered: Label,
    destinations: readonly DestinationKind[],
    exception: boolean,
  ): ConstitutionRule | undefined => {
    for (const atom of ATOMS_TO_CHECK) {
      if (!leq(label(atom), covered)) continue;
      for (const d of destinations) {
        const floor = constitutionFloor(atom, d);
        if (floor === undefined) continue;
        if (floor.at_most === 'deny' || !exception) return floor.rule;
      }
    }
    return undefined;
  };
  (pack.label_rules ?? []).forEach((r, i) => {
    if (r.effect !== 'allow') return;
    const rule = relaxed(label(r.label), [r.destination], false);
    if (rule !== undefined)
      refuse(
        ['label_rules', i, 'label'],
        rule,
        `allowing ${describeLabel(label(r.label))} to ${r.destination}`,
      );
  });
  (pack.egress_exceptions ?? []).forEach((e, i) => {
    if (!e.needs_approval)
      refuse(
        ['egress_exceptions', i, 'needs_approval'],
        CONSTITUTION.no_side_effect_before_approval,
        'an exception without approval',
      );
    const rule = relaxed(label(e.label), [e.destination], true);
    if (rule !== undefined)
      refuse(
        ['egress_exceptions', i, 'label'],
        rule,
        `an exception for ${describeLabel(label(e.label))} to ${e.destination}`,
      );
  });
  (pack.rules ?? []).forEach((r, i) => {
    if (r.effect !== 'allow' || r.match.label === undefined) return;
    // A rule naming an origin is about network egress; one naming nothing about anywhere.
    const destinations =
      r.match.destination !== undefined
        ? [r.match.destination]
        : r.match.origin !== undefined
          ? (['network_egress'] as const)
          : ALL_DESTINATIONS;
    const rule = relaxed(label(r.match.label), destinations, false);
    if (rule !== undefined)
      refuse(
        ['rules', i, 'match', 'label'],
        rule,
        `allowing ${describeLabel(label(r.match.label))}`,
      );
  });
  (pack.activation_rules ?? []).forEach((r, i) => {
    if (r.effect !== 'allow') return;
    if (r.match.trigger === undefined)
      refuse(
        ['activation_rules', i, 'match'],
        CONSTITUTION.activation_needs_trigger,
        'an allow rule with no trigger',
      );
    else if (r.match.trigger !== 'direct' && r.match.senders === undefined)
      refuse(
        ['activation_rules', i, 'match'],
        CONSTITUTION.group_activation_needs_allowlist,
        `a ${r.match.trigger} rule with no senders`,
      );
  });
  return issues;
}
