import { describe, expect, it } from 'vitest';
import type { LabelInput } from '../../../contracts/labels.ts';
import type { DestinationKind, PolicyPack } from '../../../contracts/policy.ts';
import { LOCAL_DEV_POLICY_PACK, STRICT_POLICY_PACK } from '../../../main/policy/builtin-packs.ts';
import { labelAllowed } from '../../../main/policy/label-rules.ts';
import { label } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';

type Row = [LabelInput, DestinationKind, 'allow' | 'ask' | 'deny', string];

/** The default pack is the contract's default-deny chat pack: this table is the contract. */
const DEFAULT_TABLE: Row[] = [
  ['public', 'remote_llm', 'allow', 'label.public_to_remote_llm'],
  ['public', 'outbound_connector', 'allow', 'label.public_to_outbound_connector'],
  ['pii.redacted', 'local_llm', 'allow', 'label.pii_to_local_llm'],
  ['pii.redacted', 'remote_llm', 'ask', 'exception.redacted_to_remote_llm'],
  ['pii.redacted', 'network_egress', 'ask', 'exception.redacted_to_network_egress'],
  ['pii.redacted', 'outbound_connector', 'ask', 'exception.redacted_to_outbound_connector'],
  ['pii.chat.message', 'remote_llm', 'deny', 'constitution.pii_egress_needs_approval'],
  ['pii.chat.message', 'network_egress', 'deny', 'constitution.pii_egress_needs_approval'],
  ['pii.attachment', 'outbound_connector', 'deny', 'constitution.pii_egress_needs_approval'],
  ['pii.chat.message', 'local_llm', 'allow', 'label.pii_to_local_llm'],
  ['pii.chat.metadata', 'memory', 'allow', 'label.pii_to_memory'],
  ['pii.chat.metadata', 'remote_llm', 'deny', 'constitution.metadata_never_leaves'],
  ['pii.chat.metadata', 'outbound_connector', 'deny', 'constitution.metadata_never_leaves'],
  ['secret.token', 'network_egress', 'deny', 'constitution.secret_never_egress'],
  ['secret.token', 'remote_llm', 'deny', 'constitution.secret_never_egress'],
  ['secret.token', 'memory', 'deny', 'constitution.no_secret_in_memory'],
  ['secret.token', 'local_llm', 'deny', 'label.default_deny'],
  ['internal.system', 'remote_llm', 'allow', 'label.internal_to_remote_llm'],
  ['internal.system', 'network_egress', 'deny', 'label.default_deny'],
  // A joined label is only as free as its most restricted atom.
  [['pii.redacted', 'secret.token'], 'network_egress', 'deny', 'constitution.secret_never_egress'],
  [['pii.redacted', 'internal.system'], 'remote_llm', 'ask', 'exception.redacted_to_remote_llm'],
];

function expectRow(pack: PolicyPack, [l, destination, effect, ruleId]: Row): void {
  const d = labelAllowed(pack, label(l), destination);
  expect({ allowed: d.allowed, needs_approval: d.needs_approval, rule_id: d.rule_id }).toEqual({
    allowed: effect !== 'deny',
    needs_approval: effect === 'ask',
    rule_id: ruleId,
  });
}

describe('labelAllowed', () => {
  it.each(DEFAULT_TABLE)('default: %j to %s is %s (%s)', (...row) => {
    expectRow(DEFAULT_POLICY_PACK, row);
  });

  it.each([
    ['pii.redacted', 'remote_llm', 'deny', 'constitution.pii_egress_needs_approval'],
    ['pii.redacted', 'outbound_connector', 'deny', 'constitution.pii_egress_needs_approval'],
    ['pii.redacted', 'local_llm', 'allow', 'label.pii_to_local_llm'],
  ] as Row[])('strict: %j to %s is %s (%s)', (...row) => {
    expectRow(STRICT_POLICY_PACK, row);
  });

  it('local-dev lets secrets reach no prompt either', () => {
    expectRow(LOCAL_DEV_POLICY_PACK, ['secret.token', 'local_llm', 'deny', 'label.default_deny']);
  });

  it('holds a pack with no label rules to the contract’s, and gives it no exception', () => {
    const bare: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      label_rules: undefined,
      egress_exceptions: undefined,
    };
    expectRow(bare, ['public', 'network_egress', 'allow', 'label.public_to_network_egress']);
    expectRow(bare, [
      'pii.redacted',
      'remote_llm',
      'deny',
      'constitution.pii_egress_needs_approval',
    ]);
  });

  it('lets a deny rule cover every label above it, and beat an exception', () => {
    const pack: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      label_rules: [
        ...(DEFAULT_POLICY_PACK.label_rules ?? []),
        {
          rule_id: 'label.no_pii_in_memory',
          label: 'pii.redacted',
          destination: 'memory',
          effect: 'deny',
        },
        {
          rule_id: 'label.no_redacted_out',
          label: 'pii.redacted',
          destination: 'remote_llm',
          effect: 'deny',
        },
      ],
    };
    expectRow(pack, ['pii.chat.message', 'memory', 'deny', 'label.no_pii_in_memory']);
    expectRow(pack, ['public', 'memory', 'allow', 'label.public_to_memory']);
    expectRow(pack, ['pii.redacted', 'remote_llm', 'deny', 'label.no_redacted_out']);
  });

  it('ignores an exception that needs no approval, should one reach it unchecked', () => {
    const pack: PolicyPack = {
      ...DEFAULT_POLICY_PACK,
      egress_exceptions: [
        {
          rule_id: 'exception.free',
          label: 'pii.redacted',
          destination: 'remote_llm',
          needs_approval: false,
        },
      ],
    };
    expectRow(pack, [
      'pii.redacted',
      'remote_llm',
      'deny',
      'constitution.pii_egress_needs_approval',
    ]);
  });
});
