import { describe, expect, it } from 'vitest';
import type { SkillListEntry, SkillOperation } from '../../../contracts/skills.ts';
import type { CallWindow } from '../../../main/execute/call-window.ts';
import { taintVerdictOf } from '../../../main/execute/taint-gate.ts';
import { PUBLIC, label } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';

function op(capabilities: string[]): SkillOperation {
  return {
    id: 'send',
    description: 'sends',
    input_schema: { type: 'object' },
    capabilities,
    approval: 'never',
  };
}

const SKILL: SkillListEntry = {
  skill_id: 'mail',
  version: '1.0.0',
  name: 'Mail',
  description: 'Mail.',
  status: 'enabled',
  source: 'test',
  loaded_at: '2026-01-01T00:00:00.000Z',
  operations: [],
  permissions: { egress: [], secrets: [], memory_namespaces: [] },
  onboarding: { state: 'READY', step: 0 },
};

function window(overrides: Partial<CallWindow> = {}): CallWindow {
  return {
    label: PUBLIC,
    taint: 'trusted',
    sources: [
      { name: 'skill feed@1.0.0 op read', step_id: 's1', label: PUBLIC, taint: 'untrusted' },
    ],
    argument_sources: { to: ['skill feed@1.0.0 op read'] },
    ...overrides,
  };
}

const NET = op(['net.http']);

describe('the taint gate and egress by label', () => {
  it('ask before an effectful call from an untrusted window, marking it taint-gated', () => {
    const verdict = taintVerdictOf(
      window({ taint: 'untrusted' }),
      SKILL,
      NET,
      DEFAULT_POLICY_PACK,
      'mail__send',
    );
    expect(verdict).toMatchObject({
      kind: 'ask',
      rule_id: 'taint.gate',
      request: { taint_gate: true },
    });
  });

  it('say nothing for a trusted public window, a read-only call, or a call no LLM window is known for', () => {
    expect(taintVerdictOf(window(), SKILL, NET, DEFAULT_POLICY_PACK, 't')).toBeUndefined();
    expect(
      taintVerdictOf(
        window({ taint: 'untrusted' }),
        SKILL,
        op(['memory.read']),
        DEFAULT_POLICY_PACK,
        't',
      ),
    ).toBeUndefined();
    expect(taintVerdictOf(undefined, SKILL, NET, DEFAULT_POLICY_PACK, 't')).toBeUndefined();
  });

  it('is off when the pack turns it off', () => {
    const off = { ...DEFAULT_POLICY_PACK, taint_gate: 'off' as const };
    expect(taintVerdictOf(window({ taint: 'untrusted' }), SKILL, NET, off, 't')).toBeUndefined();
  });

  it('refuse network egress from a window holding personal data, with rule egress.label', () => {
    const verdict = taintVerdictOf(
      window({ label: label('pii.chat.message') }),
      SKILL,
      NET,
      DEFAULT_POLICY_PACK,
      'mail__send',
    );
    expect(verdict).toMatchObject({ kind: 'deny', rule_id: 'egress.label' });
    // A skill that declares egress reaches the network whatever its capabilities say.
    const viaEgress = {
      ...SKILL,
      permissions: {
        ...SKILL.permissions,
        egress: [{ origin: 'https://x.test', methods: ['POST' as const] }],
      },
    };
    expect(
      taintVerdictOf(
        window({ label: label('pii.attachment') }),
        viaEgress,
        op(['memory.write']),
        DEFAULT_POLICY_PACK,
        't',
      )?.kind,
    ).toBe('deny');
  });

  it('ask instead under the pack’s egress exception, but refuse a secret.token window even then', () => {
    const exception = { ...DEFAULT_POLICY_PACK, egress_label: 'approval' as const };
    expect(
      taintVerdictOf(window({ label: label('pii.chat.message') }), SKILL, NET, exception, 't'),
    ).toMatchObject({
      kind: 'ask',
      rule_id: 'egress.label',
      request: { egress_label: true, taint_gate: false },
    });
    expect(
      taintVerdictOf(window({ label: label('secret.token') }), SKILL, NET, exception, 't')?.kind,
    ).toBe('deny');
  });

  it('leave a call that cannot reach the network to the taint gate alone, whatever the label', () => {
    expect(
      taintVerdictOf(
        window({ label: label('pii.chat.message') }),
        SKILL,
        op(['memory.write']),
        DEFAULT_POLICY_PACK,
        't',
      ),
    ).toBeUndefined();
  });
});
