import type { Approval } from '../../contracts/approvals.ts';
import type { GrantBasis } from '../../contracts/grants.ts';
import type { PolicyPack } from '../../contracts/policy.ts';

/** The longest a grant lasts when the pack says nothing (`grants_max_ms`). */
export const DEFAULT_GRANT_MAX_MS = 30 * 24 * 60 * 60 * 1000;

/** Why a standing grant of an approval is refused, named by its rule. */
export type GrantRefusal = { rule_id: string; message: string };

/** Rule ids of the refusals, on the `policy.decision` entry each one leaves. */
export const GRANT_RULES = {
  kind: 'grants.kind',
  taintGated: 'grants.taint_gated',
  noBasis: 'grants.no_basis',
} as const;

/**
 * Why `approval` may not become a standing grant under `pack`, or undefined when it may.
 * Budget and declassify approvals are never standing: an extension of a run's budget and a
 * release of personal data are each their own decision. A call the taint gate asked about is
 * steered by untrusted data, so it is standing only where the pack says so.
 */
export function grantRefusalOf(
  approval: Approval,
  basis: GrantBasis | undefined,
  pack: PolicyPack,
): GrantRefusal | undefined {
  if (approval.kind === 'budget')
    return {
      rule_id: GRANT_RULES.kind,
      message:
        'a budget approval is never standing: each extension of a run’s budget is its own decision',
    };
  if (approval.kind === 'declassify')
    return {
      rule_id: GRANT_RULES.kind,
      message:
        'a declassify approval is never standing: each release needs its own approval and a passing verifier',
    };
  if (approval.kind !== 'operation')
    return {
      rule_id: GRANT_RULES.kind,
      message: `a ${approval.kind} approval cannot be standing; only operation approvals can`,
    };
  const taintGated = approval.request.taint_gate === true || basis?.taint_gated === true;
  if (taintGated && pack.grants_allow_taint_gated !== true)
    return {
      rule_id: GRANT_RULES.taintGated,
      message: `this call was asked about because its arguments derive from untrusted data; the policy pack ${pack.id} does not let such a call be approved as standing`,
    };
  if (basis === undefined)
    return {
      rule_id: GRANT_RULES.noBasis,
      message:
        'this approval does not record the skill version and permissions a grant would match (it was asked before grants existed); approve it once instead',
    };
  return undefined;
}

/** When a grant asked to last until `until` ends: never later than the pack allows. */
export function grantExpiry(now: Date, until: string | undefined, pack: PolicyPack): Date {
  const cap = now.getTime() + (pack.grants_max_ms ?? DEFAULT_GRANT_MAX_MS);
  const asked = until === undefined ? cap : Date.parse(until);
  return new Date(Math.min(asked, cap));
}
