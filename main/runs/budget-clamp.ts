import type { PolicyPack } from '../../contracts/policy.ts';
import {
  cappedLimitSchema,
  type BudgetCaps,
  type BudgetClamp,
  type BudgetRequest,
} from '../../contracts/runs.ts';

/**
 * A non-admin caller's budget request, lowered to its connector's caps and to the policy
 * pack's defaults (issue 17 #13): a connector token may ask for less than the pack gives,
 * never more. Each lowered limit is reported, so the caller sees what it got and why.
 * A deadline is passed through: it can only shorten a run.
 */
export function clampBudget(
  request: BudgetRequest | undefined,
  pack: PolicyPack,
  caps: BudgetCaps,
): { budget: BudgetRequest; clamps: BudgetClamp[] } {
  const budget: BudgetRequest = { ...request };
  const clamps: BudgetClamp[] = [];
  for (const limit of cappedLimitSchema.options) {
    const packDefault = pack.default_budget[limit];
    const cap = caps[limit];
    const bound = cap === undefined ? packDefault : Math.min(cap, packDefault);
    const by = cap !== undefined && cap < packDefault ? 'connector' : 'policy_pack';
    const requested = request?.[limit];
    const wanted = requested ?? packDefault;
    if (wanted > bound) clamps.push({ limit, requested: requested ?? null, granted: bound, by });
    budget[limit] = Math.min(wanted, bound);
  }
  return { budget, clamps };
}
