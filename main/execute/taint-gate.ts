import type { PolicyPack } from '../../contracts/policy.ts';
import type { SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import { describeLabel } from '../policy/labels.ts';
import type { CallWindow } from './call-window.ts';

/** `rule_id`s of the two rules (docs/decisions.md, "Taint gate and egress by label"). */
export const RULE_TAINT_GATE = 'taint.gate';
export const RULE_EGRESS_LABEL = 'egress.label';

/** Capabilities with no effect outside the call: reading is not acting. */
const EFFECT_FREE: ReadonlySet<string> = new Set(['compute.pure', 'memory.read']);

/** What the window's labels and taint make of a call, before any other approval rule. */
export type TaintVerdict =
  | { kind: 'deny'; rule_id: string; reason: string }
  | {
      kind: 'ask';
      rule_id: string;
      justification: string;
      /** Shown with the approval; `taint_gate: true` tells standing grants not to cover it. */
      request: Record<string, unknown>;
    };

/**
 * The taint gate and egress by label (issue 22). A call to an operation with effects asked
 * from an untrusted window needs a person's approval (pack `taint_gate`, default on); a
 * call that can reach the network asked from a window holding personal data is refused, or
 * asks under the pack's egress exception (`egress_label: approval`) — `secret.token` is
 * refused either way. Undefined: neither rule speaks and the usual approval rules decide.
 */
export function taintVerdictOf(
  window: CallWindow | undefined,
  skill: SkillListEntry,
  op: SkillOperation,
  pack: PolicyPack,
  tool: string,
): TaintVerdict | undefined {
  if (window === undefined) return undefined;
  const effects = op.capabilities.some((c) => !EFFECT_FREE.has(c));
  const network =
    op.http !== undefined ||
    op.capabilities.some((c) => c.startsWith('net.')) ||
    skill.permissions.egress.length > 0;
  const personal = window.label.filter((a) => a !== 'internal.system');
  const egressRule = pack.egress_label ?? 'deny';
  const labelled = network && personal.length > 0 && egressRule !== 'off';
  const gated =
    effects && window.taint === 'untrusted' && (pack.taint_gate ?? 'approval') !== 'off';
  if (labelled && (egressRule === 'deny' || personal.includes('secret.token'))) {
    return {
      kind: 'deny',
      rule_id: RULE_EGRESS_LABEL,
      reason: `${tool} can reach the network, and the answer that asked for it saw ${describeLabel(window.label)} data (${holders(window, (s) => s.label.some((a) => a !== 'internal.system'))}); the policy pack does not let such data leave`,
    };
  }
  if (!labelled && !gated) return undefined;
  const why = [
    ...(gated ? [untrustedAskReason(window)] : []),
    ...(labelled
      ? [`its arguments may carry ${describeLabel(window.label)} data out over the network`]
      : []),
  ];
  return {
    kind: 'ask',
    rule_id: gated ? RULE_TAINT_GATE : RULE_EGRESS_LABEL,
    justification: `the agent wants to run ${op.id} of ${skill.name}, and ${why.join('; and ')}. Where each argument came from: ${describeArguments(window)}`,
    request: { taint_gate: gated, egress_label: labelled, ...windowRequest(window) },
  };
}

/**
 * The approval a host built-in with an effect (`ccos__send_message`) asks before it acts: the
 * taint gate when the window that asked held untrusted data (unless the pack turns it off),
 * and egress by label when the caller found the content may leave only through an egress
 * exception (`labelRule`, the exception's rule id). One approval answers both; it names the
 * sources. `action` says what the agent wants, as the person will read it.
 */
export function builtinEffectAsk(
  window: CallWindow | undefined,
  pack: PolicyPack,
  action: string,
  options: { labelRule?: string | undefined } = {},
): Extract<TaintVerdict, { kind: 'ask' }> | undefined {
  if (window === undefined) return undefined;
  const gated = window.taint === 'untrusted' && (pack.taint_gate ?? 'approval') !== 'off';
  const labelled = options.labelRule !== undefined;
  if (!gated && !labelled) return undefined;
  const why = [
    ...(gated ? [untrustedAskReason(window)] : []),
    ...(labelled
      ? [
          `it carries ${describeLabel(window.label)} data (from ${holders(window, (s) => s.label.length > 0)}) off this machine`,
        ]
      : []),
  ];
  return {
    kind: 'ask',
    rule_id: gated ? RULE_TAINT_GATE : (options.labelRule ?? RULE_EGRESS_LABEL),
    justification: `${action}, and ${why.join('; and ')}. Where each argument came from: ${describeArguments(window)}`,
    request: { taint_gate: gated, egress_label: labelled, ...windowRequest(window) },
  };
}

/**
 * Why the taint gate asks, as the person reads it: the window's untrusted sources by name.
 * Every gate (skill calls, host built-ins, memory writes) words it the same way.
 */
export function untrustedAskReason(window: CallWindow): string {
  return `it was asked for by an answer that read untrusted data from ${holders(window, (s) => s.taint === 'untrusted')}`;
}

/**
 * What an approval (and its `policy.decision` entry) shows of the window that asked: its join
 * and each source. Shared by every gate so the approval card reads one shape.
 */
export function windowRequest(window: CallWindow): Record<string, unknown> {
  return {
    window: {
      label: describeLabel(window.label),
      taint: window.taint,
      sources: window.sources.map((s) => ({
        name: s.name,
        step_id: s.step_id,
        label: describeLabel(s.label),
        taint: s.taint,
      })),
    },
    argument_sources: window.argument_sources,
  };
}

function holders(window: CallWindow, which: (s: CallWindow['sources'][number]) => boolean): string {
  const names = window.sources.filter(which).map((s) => s.name);
  return names.length === 0 ? 'the window' : [...new Set(names)].join(', ');
}

function describeArguments(window: CallWindow): string {
  const entries = Object.entries(window.argument_sources);
  if (entries.length === 0) return 'no argument could be traced (the window)';
  return entries.map(([name, from]) => `${name} ← ${from.join(', ')}`).join('; ');
}
