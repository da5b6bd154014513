import { describe, expect, it } from 'vitest';
import type { ActivationMessage, PolicyPack, PolicyRule } from '../../../contracts/policy.ts';
import { LOCAL_DEV_POLICY_PACK, STRICT_POLICY_PACK } from '../../../main/policy/builtin-packs.ts';
import { decide, type DecisionRequest } from '../../../main/policy/decide.ts';
import { label } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';

const RULES: PolicyRule[] = [
  { rule_id: 'ops.no_delete', effect: 'deny', match: { operation: 'files__delete' } },
  { rule_id: 'ops.no_shell', effect: 'deny', match: { capability: 'shell.*' } },
  {
    rule_id: 'egress.no_paste',
    effect: 'deny',
    match: { origin: 'https://paste.example.com' },
    reason: 'paste sites publish',
  },
  { rule_id: 'mem.no_secrets_ns', effect: 'deny', match: { namespace: 'vault' } },
  { rule_id: 'ops.notes_ok', effect: 'allow', match: { skill: 'notes' } },
  // Would allow files__delete if allow came before deny: it does not.
  { rule_id: 'ops.files_ok', effect: 'allow', match: { skill: 'files' } },
  {
    rule_id: 'egress.redacted_to_crm',
    effect: 'allow',
    match: { label: 'pii.redacted', origin: 'https://crm.example.com' },
  },
  {
    rule_id: 'egress.no_messages_to_analytics',
    effect: 'deny',
    match: { label: 'pii.redacted', origin: 'https://analytics.example.com' },
  },
];

/** The default pack with the table's rules; `rules_default` as given. */
function pack(rules_default: 'allow' | 'deny' = 'allow'): PolicyPack {
  return { ...DEFAULT_POLICY_PACK, id: 'team', rules: RULES, rules_default };
}

const op = (
  operation: string,
  capabilities: string[] = ['net.http'],
): Extract<DecisionRequest, { kind: 'operation' }> => ({
  kind: 'operation',
  skill_id: operation.split('__')[0] ?? '',
  operation,
  capabilities,
});
const egress = (origin: string, l?: Parameters<typeof label>[0]): DecisionRequest => ({
  kind: 'egress',
  skill_id: 'web',
  operation: 'web__post',
  origin,
  ...(l === undefined ? {} : { label: label(l) }),
});

describe('decide', () => {
  it.each([
    ['a deny rule on the operation', op('files__delete'), 'allow', 'deny', 'ops.no_delete'],
    ['deny wins over a matching allow', op('files__delete'), 'deny', 'deny', 'ops.no_delete'],
    [
      'a deny on a capability prefix',
      op('box__run', ['shell.exec']),
      'allow',
      'deny',
      'ops.no_shell',
    ],
    ['an allow rule', op('notes__put'), 'deny', 'allow', 'ops.notes_ok'],
    ['no rule: the pack default allows', op('box__get'), 'allow', 'allow', 'rules.default_allow'],
    ['no rule: the pack default denies', op('box__get'), 'deny', 'deny', 'rules.default_deny'],
    ['a denied origin', egress('https://paste.example.com'), 'allow', 'deny', 'egress.no_paste'],
    [
      'an origin no rule names',
      egress('https://ok.example.com'),
      'allow',
      'allow',
      'rules.default_allow',
    ],
    [
      'a label rule needs the data label: unlabelled data skips it',
      egress('https://crm.example.com'),
      'deny',
      'deny',
      'rules.default_deny',
    ],
    [
      'public data under an allow over pii.redacted',
      egress('https://crm.example.com', 'public'),
      'deny',
      'allow',
      'egress.redacted_to_crm',
    ],
    [
      'raw pii to an origin: the constitution decides before any pack rule',
      egress('https://analytics.example.com', 'pii.chat.message'),
      'allow',
      'deny',
      'constitution.pii_egress_needs_approval',
    ],
    [
      'a deny over pii.redacted covers pii.redacted',
      egress('https://analytics.example.com', 'pii.redacted'),
      'allow',
      'deny',
      'egress.no_messages_to_analytics',
    ],
    [
      'an allow rule cannot waive the approval an egress exception asks for',
      egress('https://crm.example.com', 'pii.redacted'),
      'allow',
      'ask',
      'exception.redacted_to_network_egress',
    ],
    [
      'an allow rule cannot override the constitution on a secret',
      egress('https://crm.example.com', 'secret.token'),
      'allow',
      'deny',
      'constitution.secret_never_egress',
    ],
    [
      'metadata never leaves',
      egress('https://crm.example.com', 'pii.chat.metadata'),
      'allow',
      'deny',
      'constitution.metadata_never_leaves',
    ],
    [
      'a denied memory namespace',
      { kind: 'memory', namespace: 'vault' } satisfies DecisionRequest,
      'allow',
      'deny',
      'mem.no_secrets_ns',
    ],
    [
      'a secret is never written to memory',
      {
        kind: 'memory',
        namespace: 'notes',
        label: label('secret.token'),
      } satisfies DecisionRequest,
      'allow',
      'deny',
      'constitution.no_secret_in_memory',
    ],
    [
      'installing a skill that declares a denied capability',
      {
        kind: 'skill',
        skill_id: 'box',
        capabilities: ['pure', 'shell.exec'],
      } satisfies DecisionRequest,
      'allow',
      'deny',
      'ops.no_shell',
    ],
    [
      'pii to a remote LLM, even inside a tool call that allows the skill',
      {
        ...op('notes__put'),
        label: label('pii.chat.message'),
        destination: 'remote_llm',
      } satisfies DecisionRequest,
      'allow',
      'deny',
      'constitution.pii_egress_needs_approval',
    ],
    [
      'pii to the local LLM',
      {
        ...op('notes__put'),
        label: label('pii.chat.message'),
        destination: 'local_llm',
      } satisfies DecisionRequest,
      'deny',
      'allow',
      'ops.notes_ok',
    ],
  ] as const)('%s', (_what, request, rulesDefault, effect, ruleId) => {
    const decision = decide(pack(rulesDefault), request);
    expect(decision).toMatchObject({ effect, rule_id: ruleId });
    expect(decision.reason).not.toBe('');
  });

  it('says why with the rule’s own reason', () => {
    expect(decide(pack(), egress('https://paste.example.com')).reason).toBe(
      'egress.no_paste denies web__post sending to https://paste.example.com: paste sites publish',
    );
  });

  it('reads a pack with no rules at all as allowing (today’s behaviour)', () => {
    const bare: PolicyPack = { ...DEFAULT_POLICY_PACK, rules: undefined, rules_default: undefined };
    expect(decide(bare, op('files__delete'))).toMatchObject({
      effect: 'allow',
      rule_id: 'rules.default_allow',
    });
  });
});

describe('decide on activation', () => {
  const message = (m: Partial<ActivationMessage>): DecisionRequest => ({
    kind: 'activation',
    message: {
      direct: false,
      mentions_agent: false,
      text: 'hello all',
      sender: 'u:alice',
      channel: 'c:general',
      ...m,
    },
  });
  const team: PolicyPack = {
    ...DEFAULT_POLICY_PACK,
    id: 'team',
    activation_rules: [
      { rule_id: 'activation.no_bots', effect: 'deny', match: { senders: ['u:bot'] } },
      { rule_id: 'activation.direct', effect: 'allow', match: { trigger: 'direct' } },
      {
        rule_id: 'activation.team_mention',
        effect: 'allow',
        match: { trigger: 'mention', senders: ['u:alice', 'u:bot'] },
      },
      {
        rule_id: 'activation.standup',
        effect: 'allow',
        match: {
          trigger: 'keyword',
          keywords: ['stand-up'],
          senders: ['u:carol'],
          channels: ['c:team'],
        },
      },
    ],
  };

  it.each([
    [
      'a direct message',
      message({ direct: true, sender: 'u:anyone' }),
      'allow',
      'activation.direct',
    ],
    [
      'a denied sender, even directly',
      message({ direct: true, sender: 'u:bot' }),
      'deny',
      'activation.no_bots',
    ],
    [
      'a mention from the allowlist',
      message({ mentions_agent: true }),
      'allow',
      'activation.team_mention',
    ],
    [
      'a mention from outside the allowlist',
      message({ mentions_agent: true, sender: 'u:mallory' }),
      'deny',
      'activation.default_deny',
    ],
    ['a group message with no trigger', message({}), 'deny', 'activation.default_deny'],
    [
      'a keyword as a whole word, any case, in its channel',
      message({ text: 'Stand-Up in 5', sender: 'u:carol', channel: 'c:team' }),
      'allow',
      'activation.standup',
    ],
    [
      'a keyword inside another word',
      message({ text: 'standupstand-upx', sender: 'u:carol', channel: 'c:team' }),
      'deny',
      'activation.default_deny',
    ],
    [
      'a keyword in another channel',
      message({ text: 'stand-up', sender: 'u:carol', channel: 'c:general' }),
      'deny',
      'activation.default_deny',
    ],
  ] as const)('%s', (_what, request, effect, ruleId) => {
    expect(decide(team, request)).toMatchObject({ effect, rule_id: ruleId });
  });

  it('wakes nothing under a pack with no activation rules', () => {
    expect(decide(STRICT_POLICY_PACK, message({ direct: true }))).toMatchObject({
      effect: 'deny',
      rule_id: 'activation.default_deny',
    });
  });

  it('ignores an allow rule the constitution refuses, should one reach it unchecked', () => {
    const loose: PolicyPack = {
      ...LOCAL_DEV_POLICY_PACK,
      activation_rules: [
        { rule_id: 'activation.all', effect: 'allow', match: { trigger: 'mention' } },
      ],
    };
    expect(decide(loose, message({ mentions_agent: true }))).toMatchObject({ effect: 'deny' });
  });
});
