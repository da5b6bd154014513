import type { DestinationKind, PolicyPack } from '../../contracts/policy.ts';
import { constitutionFloor, type LabelUnit } from './constitution.ts';
import { CONTRACT_LABEL_RULES } from './contract-rules.ts';
import { describeLabel, label, leq, type Label } from './labels.ts';

/** No label rule allows this unit of data to this destination: the contract denies by default. */
export const RULE_LABEL_DEFAULT_DENY = 'label.default_deny';

/** Whether data with a label may go to a destination, and the rule that says so. */
export type LabelDecision = {
  allowed: boolean;
  /** The rule that decided: a constitution rule, a label rule, an exception or the default. */
  rule_id: string;
  /** Allowed only with a person's approval (an egress exception). */
  needs_approval: boolean;
  reason: string;
};

/**
 * Whether `data` may go to `destination` under `pack`. Each atom of the label is decided on
 * its own and the strictest answer wins (a label is only as free as its most restricted
 * part). For one atom, in this order: the constitution; a deny rule at or below it; an allow
 * rule at or above it (never for what the constitution lets out only with approval); an
 * egress exception at or above it (allowed with approval); else denied.
 * A pack without `label_rules` is held to the contract's (CONTRACT_LABEL_RULES). Pure.
 */
export function labelAllowed(
  pack: PolicyPack,
  data: Label,
  destination: DestinationKind,
): LabelDecision {
  const units: readonly LabelUnit[] = data.length === 0 ? ['public'] : data;
  let ask: LabelDecision | undefined;
  let allow: LabelDecision | undefined;
  for (const unit of units) {
    const d = unitDecision(pack, unit, destination);
    if (!d.allowed) return d;
    if (d.needs_approval) ask ??= d;
    else allow ??= d;
  }
  // Non-empty units: at least one of the two is set.
  return ask ?? (allow as LabelDecision);
}

function unitDecision(
  pack: PolicyPack,
  unit: LabelUnit,
  destination: DestinationKind,
): LabelDecision {
  const here = label(unit);
  const what = `${describeLabel(here)} to ${destination}`;
  const floor = constitutionFloor(unit, destination);
  if (floor?.at_most === 'deny') return deny(floor.rule.rule_id, `${what}: ${floor.rule.text}`);
  const rules = (pack.label_rules ?? CONTRACT_LABEL_RULES).filter(
    (r) => r.destination === destination,
  );
  // A deny rule over a label covers everything more restrictive than it.
  const denied = rules.find((r) => r.effect === 'deny' && leq(label(r.label), here));
  if (denied !== undefined) return deny(denied.rule_id, `${what} is denied by ${denied.rule_id}`);
  // Below the constitution's `ask` floor an allow rule lets data through; at it, only an exception.
  const allowed =
    floor === undefined
      ? rules.find((r) => r.effect === 'allow' && leq(here, label(r.label)))
      : undefined;
  if (allowed !== undefined)
    return {
      allowed: true,
      rule_id: allowed.rule_id,
      needs_approval: false,
      reason: `${what} is allowed by ${allowed.rule_id}`,
    };
  // An exception opens, with an approval, what no allow rule opens.
  const exception = (pack.egress_exceptions ?? []).find(
    (e) => e.destination === destination && e.needs_approval && leq(here, label(e.label)),
  );
  if (exception !== undefined)
    return {
      allowed: true,
      rule_id: exception.rule_id,
      needs_approval: true,
      reason: `${what} needs a person's approval (${exception.rule_id})`,
    };
  if (floor !== undefined) return deny(floor.rule.rule_id, `${what}: ${floor.rule.text}`);
  return deny(RULE_LABEL_DEFAULT_DENY, `no label rule allows ${what}`);
}

function deny(rule_id: string, reason: string): LabelDecision {
  return { allowed: false, rule_id, needs_approval: false, reason };
}
