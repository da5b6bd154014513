import { describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { GrantBasis } from '../../../contracts/grants.ts';
import { STRICT_POLICY_PACK } from '../../../main/policy/builtin-packs.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import {
  DEFAULT_GRANT_MAX_MS,
  grantExpiry,
  grantRefusalOf,
} from '../../../main/runs/grant-policy.ts';

const APPROVAL: Approval = {
  id: 'apr_1',
  run_id: 'run_1',
  step_id: 'step_1',
  kind: 'operation',
  scope: 'poster__post',
  justification: 'j',
  permission_diff: [],
  request: {},
  state: 'pending',
  decided_by: null,
  reason: null,
  created_at: '2026-12-03T00:00:00.000Z',
  decided_at: null,
  answer: null,
  consumed_at: null,
  expires_at: null,
  expires_in_ms: null,
};
const BASIS: GrantBasis = {
  key: 'c'.repeat(64),
  tool: 'poster__post',
  skill_id: 'poster',
  skill_version: '1.0.0',
  skill_digest: 'd'.repeat(64),
  operation_id: 'post',
  taint_gated: false,
};
const NOW = new Date('2026-12-03T00:00:00.000Z');

describe('grantRefusalOf', () => {
  it('allows an operation approval with a basis', () => {
    expect(grantRefusalOf(APPROVAL, BASIS, DEFAULT_POLICY_PACK)).toBeUndefined();
  });

  it('never allows budget or declassify approvals, whatever the pack', () => {
    const lax = { ...DEFAULT_POLICY_PACK, grants_allow_taint_gated: true };
    for (const kind of ['budget', 'declassify', 'secret_write', 'human_action'] as const)
      expect(grantRefusalOf({ ...APPROVAL, kind }, BASIS, lax)?.rule_id).toBe('grants.kind');
  });

  it('refuses a taint-gated approval unless the pack allows it, from the request or the basis', () => {
    const tainted = { ...APPROVAL, request: { taint_gate: true } };
    expect(grantRefusalOf(tainted, BASIS, DEFAULT_POLICY_PACK)?.rule_id).toBe('grants.taint_gated');
    expect(
      grantRefusalOf(APPROVAL, { ...BASIS, taint_gated: true }, DEFAULT_POLICY_PACK)?.rule_id,
    ).toBe('grants.taint_gated');
    const lax = { ...DEFAULT_POLICY_PACK, grants_allow_taint_gated: true };
    expect(grantRefusalOf(tainted, { ...BASIS, taint_gated: true }, lax)).toBeUndefined();
  });
});

describe('grantExpiry', () => {
  it('is the pack cap when no until is asked, and never later than it', () => {
    const cap = NOW.getTime() + DEFAULT_GRANT_MAX_MS;
    expect(grantExpiry(NOW, undefined, DEFAULT_POLICY_PACK).getTime()).toBe(cap);
    expect(grantExpiry(NOW, '2030-01-01T00:00:00Z', DEFAULT_POLICY_PACK).getTime()).toBe(cap);
    const short = { ...DEFAULT_POLICY_PACK, grants_max_ms: 60_000 };
    expect(grantExpiry(NOW, undefined, short).getTime()).toBe(NOW.getTime() + 60_000);
  });

  it('is a day at most under the built-in strict pack', () => {
    expect(grantExpiry(NOW, undefined, STRICT_POLICY_PACK).getTime() - NOW.getTime()).toBe(
      24 * 60 * 60 * 1000,
    );
  });

  it('keeps an earlier until as asked, with its offset resolved', () => {
    expect(grantExpiry(NOW, '2026-12-03T05:00:00+02:00', DEFAULT_POLICY_PACK).toISOString()).toBe(
      '2026-12-03T03:00:00.000Z',
    );
  });
});
