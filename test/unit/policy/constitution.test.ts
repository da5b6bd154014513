import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PolicyPack } from '../../../contracts/policy.ts';
import { isAppError } from '../../../main/errors.ts';
import { BUILTIN_POLICY_PACKS } from '../../../main/policy/builtin-packs.ts';
import {
  CONSTITUTION,
  constitutionIssues,
  declassifyDecision,
} from '../../../main/policy/constitution.ts';
import { parsePackText } from '../../../main/policy/pack-files.ts';
import { DEFAULT_POLICY_PACK, PolicyPacks } from '../../../main/policy/policy-packs.ts';

const TEAM: PolicyPack = { ...DEFAULT_POLICY_PACK, id: 'team' };

/** The problems of `pack` written as a YAML file, with the line the field is on. */
function problemsOf(pack: PolicyPack): { text: string; problems: string[] } {
  const text = stringify(pack);
  const parsed = parsePackText('team.yaml', text);
  return {
    text,
    problems: parsed.problems.map((p) => `${p.line}:${p.col}: ${p.field}: ${p.message}`),
  };
}

/** 1-based line of the n-th (0-based) line of `text` matching `pattern`. */
function lineOf(text: string, pattern: RegExp, nth = 0): number {
  const hits = text
    .split('\n')
    .map((l, i) => (pattern.test(l) ? i + 1 : 0))
    .filter((n) => n > 0);
  return hits[nth] ?? 0;
}

describe('the constitution at load', () => {
  it('holds every shipped pack', () => {
    for (const pack of BUILTIN_POLICY_PACKS) expect(constitutionIssues(pack)).toEqual([]);
  });

  it.each([
    [
      'a label rule allowing secrets to the network',
      {
        rule_id: 'label.leak',
        label: 'secret.token',
        destination: 'network_egress',
        effect: 'allow',
      },
      CONSTITUTION.secret_never_egress.rule_id,
    ],
    [
      'a label rule allowing secrets into memory',
      {
        rule_id: 'label.keep',
        label: ['public', 'secret.token'],
        destination: 'memory',
        effect: 'allow',
      },
      CONSTITUTION.no_secret_in_memory.rule_id,
    ],
    [
      'a label rule sending chat metadata to a remote LLM',
      {
        rule_id: 'label.meta',
        label: 'pii.chat.metadata',
        destination: 'remote_llm',
        effect: 'allow',
      },
      CONSTITUTION.metadata_never_leaves.rule_id,
    ],
    [
      'a label rule sending redacted text out with no approval',
      {
        rule_id: 'label.out',
        label: 'pii.redacted',
        destination: 'outbound_connector',
        effect: 'allow',
      },
      CONSTITUTION.pii_egress_needs_approval.rule_id,
    ],
  ] as const)('refuses %s, at the rule’s label', (_what, rule, constitutionRule) => {
    const pack = { ...TEAM, label_rules: [...(TEAM.label_rules ?? []), rule] } as PolicyPack;
    const { text, problems } = problemsOf(pack);
    const index = (pack.label_rules ?? []).length - 1;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `^\\d+:\\d+: label_rules\\.${index}\\.label: .* would relax ${constitutionRule}: `,
      ),
    );
    const line = Number(problems[0]?.split(':')[0]);
    // On the label's line, or (a list) on its first item just below it.
    expect(
      text
        .split('\n')
        .slice(line - 2, line)
        .join('\n'),
    ).toMatch(/label:/);
  });

  it('refuses an egress exception for secrets, or for metadata, and one without approval', () => {
    const pack: PolicyPack = {
      ...TEAM,
      egress_exceptions: [
        {
          rule_id: 'exception.token',
          label: 'secret.token',
          destination: 'network_egress',
          needs_approval: true,
        },
        {
          rule_id: 'exception.meta',
          label: 'pii.chat.metadata',
          destination: 'outbound_connector',
          needs_approval: true,
        },
        {
          rule_id: 'exception.free',
          label: 'pii.redacted',
          destination: 'remote_llm',
          needs_approval: false,
        },
        // A raw message may leave under an exception: approval is the constitution's price.
        {
          rule_id: 'exception.raw',
          label: 'pii.chat.message',
          destination: 'remote_llm',
          needs_approval: true,
        },
      ],
    };
    const { text, problems } = problemsOf(pack);
    expect(problems).toEqual([
      `${lineOf(text, /label: secret.token/)}:12: egress_exceptions.0.label: an exception for secret.token to network_egress would relax constitution.secret_never_egress: ${CONSTITUTION.secret_never_egress.text}`,
      expect.stringMatching(/egress_exceptions\.1\.label: .*constitution\.metadata_never_leaves/),
      expect.stringMatching(
        /egress_exceptions\.2\.needs_approval: an exception without approval would relax constitution\.no_side_effect_before_approval/,
      ),
    ]);
  });

  it('refuses a static allow rule covering secrets, whatever it also names', () => {
    const pack: PolicyPack = {
      ...TEAM,
      rules: [
        {
          rule_id: 'egress.crm',
          effect: 'allow',
          match: { origin: 'https://crm.example.com', label: ['secret.token'] },
        },
        // Deny rules only tighten: never refused.
        { rule_id: 'egress.no_secret', effect: 'deny', match: { label: 'secret.token' } },
        // To the local LLM only: metadata stays on the machine.
        {
          rule_id: 'llm.meta_local',
          effect: 'allow',
          match: { label: 'pii.chat.metadata', destination: 'local_llm' },
        },
      ],
    };
    expect(problemsOf(pack).problems).toEqual([
      expect.stringMatching(
        /rules\.0\.match\.label: allowing secret\.token would relax constitution\.secret_never_egress/,
      ),
    ]);
  });

  it('refuses activation rules that wake an agent on every message, or on anyone’s mention', () => {
    const pack: PolicyPack = {
      ...TEAM,
      activation_rules: [
        { rule_id: 'activation.all', effect: 'allow', match: { channels: ['c:general'] } },
        { rule_id: 'activation.mention', effect: 'allow', match: { trigger: 'mention' } },
        { rule_id: 'activation.no_bots', effect: 'deny', match: { senders: ['u:bot'] } },
      ],
    };
    expect(problemsOf(pack).problems).toEqual([
      expect.stringMatching(/activation_rules\.0\.match: .*constitution\.activation_needs_trigger/),
      expect.stringMatching(
        /activation_rules\.1\.match: .*constitution\.group_activation_needs_allowlist/,
      ),
    ]);
  });

  it('refuses such a pack from host settings too, not only from files', () => {
    const pack: PolicyPack = {
      ...TEAM,
      label_rules: [
        {
          rule_id: 'label.leak',
          label: 'secret.token',
          destination: 'remote_llm',
          effect: 'allow',
        },
      ],
    };
    let error: unknown;
    try {
      new PolicyPacks([pack]);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toContain('constitution.secret_never_egress');
  });
});

describe('origins in rules', () => {
  it.each([
    ['https://Paste.example.com', false],
    ['https://paste.example.com:443', false],
    ['https://paste.example.com/', false],
    ['paste.example.com', false],
    ['*', false],
    ['https://paste.example.com', true],
    ['http://127.0.0.1:8080', true],
    ['http://*', true],
  ] as const)('%s is %s', (origin, ok) => {
    const pack: PolicyPack = {
      ...TEAM,
      rules: [{ rule_id: 'egress.no_paste', effect: 'deny', match: { origin } }],
    };
    // Spelled otherwise, a deny would silently never match the request's origin.
    expect(problemsOf(pack).problems).toEqual(
      ok
        ? []
        : [expect.stringMatching(/rules\.0\.match\.origin: must be an origin as a URL spells it/)],
    );
  });
});

describe('declassification', () => {
  it.each([
    [true, true, 'allow'],
    [true, false, 'deny'],
    [false, true, 'deny'],
    [false, false, 'deny'],
  ] as const)('approved %s, verifier passed %s: %s', (approved, verifierOk, effect) => {
    expect(declassifyDecision({ approved, verifier_ok: verifierOk })).toMatchObject({
      effect,
      rule_id: 'constitution.declassify_needs_verifier',
    });
  });

  it('says which half is missing', () => {
    expect(declassifyDecision({ approved: true, verifier_ok: false }).reason).toBe(
      'declassifying needs a passing verifier run on the exact output',
    );
  });
});
