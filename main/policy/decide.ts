import type {
  ActivationMessage,
  ActivationRule,
  DestinationKind,
  PolicyDecision,
  PolicyPack,
  PolicyRule,
} from '../../contracts/policy.ts';
import { labelAllowed } from './label-rules.ts';
import { label, leq, type Label } from './labels.ts';

/** No static rule matched: the pack's `rules_default` decided. */
export const RULE_DEFAULT_ALLOW = 'rules.default_allow';
export const RULE_DEFAULT_DENY = 'rules.default_deny';
/** No activation rule allowed the message: nothing wakes an agent unless a rule says so. */
export const RULE_ACTIVATION_DEFAULT_DENY = 'activation.default_deny';

/**
 * What the host is about to do, as pack rules see it. `label` is the label of the data
 * involved where the host knows it; without one, rules that match on a label do not apply.
 */
export type DecisionRequest =
  /** An agent's tool call, before its approval gate. */
  | {
      kind: 'operation';
      skill_id: string;
      /** The tool name, `<skill_id>__<operation_id>`. */
      operation: string;
      capabilities: readonly string[];
      label?: Label;
      destination?: DestinationKind;
    }
  /** A request a skill sends, to `origin`, while running `operation`. */
  | {
      kind: 'egress';
      skill_id: string;
      operation: string;
      origin: string;
      label?: Label;
    }
  /** A skill being installed or enabled, with every capability its operations declare. */
  | { kind: 'skill'; skill_id: string; capabilities: readonly string[]; label?: undefined }
  /** A memory read or write in a namespace. */
  | { kind: 'memory'; skill_id?: string; namespace: string; label?: Label }
  /** An inbound message that would wake an agent. */
  | { kind: 'activation'; message: ActivationMessage };

/**
 * The one place pack rules are evaluated. Pure. Order (docs/policy-packs.md):
 * 1. the constitution and the label rules, for data with a label going somewhere
 *    (`labelAllowed`): a denial there is final;
 * 2. deny rules: the first that matches denies (deny wins over any allow);
 * 3. an approval the label rules asked for stays asked: no allow rule waives it;
 * 4. allow rules: the first that matches allows;
 * 5. the pack's `rules_default` (allow unless the pack says deny).
 * Activation requests have rules of their own, with the same order and a default of deny.
 */
export function decide(pack: PolicyPack, request: DecisionRequest): PolicyDecision {
  if (request.kind === 'activation') return decideActivation(pack, request.message);
  const destination = destinationOf(request);
  let ask: PolicyDecision | undefined;
  if (request.label !== undefined && destination !== undefined) {
    const byLabel = labelAllowed(pack, request.label, destination);
    if (!byLabel.allowed)
      return { effect: 'deny', rule_id: byLabel.rule_id, reason: byLabel.reason };
    if (byLabel.needs_approval)
      ask = { effect: 'ask', rule_id: byLabel.rule_id, reason: byLabel.reason };
  }
  const rules = pack.rules ?? [];
  const denied = rules.find((r) => r.effect === 'deny' && matches(r, request, destination));
  if (denied !== undefined) return ruleDecision(denied, request);
  if (ask !== undefined) return ask;
  const allowed = rules.find((r) => r.effect === 'allow' && matches(r, request, destination));
  if (allowed !== undefined) return ruleDecision(allowed, request);
  return (pack.rules_default ?? 'allow') === 'allow'
    ? { effect: 'allow', rule_id: RULE_DEFAULT_ALLOW, reason: 'no rule of the pack matched' }
    : {
        effect: 'deny',
        rule_id: RULE_DEFAULT_DENY,
        reason: `no rule of pack ${pack.id} allows ${describe(request)}`,
      };
}

/** Where the request sends data, for label rules: implied by its kind, or stated. */
function destinationOf(request: Exclude<DecisionRequest, { kind: 'activation' }>) {
  switch (request.kind) {
    case 'egress':
      return 'network_egress';
    case 'memory':
      return 'memory';
    case 'operation':
      return request.destination;
    case 'skill':
      return undefined;
  }
}

function matches(
  rule: PolicyRule,
  request: Exclude<DecisionRequest, { kind: 'activation' }>,
  destination: DestinationKind | undefined,
): boolean {
  const m = rule.match;
  const r = request as Partial<{
    skill_id: string;
    operation: string;
    capabilities: readonly string[];
    origin: string;
    namespace: string;
    label: Label;
  }>;
  if (m.skill !== undefined && !nameMatches(m.skill, r.skill_id)) return false;
  if (m.operation !== undefined && !nameMatches(m.operation, r.operation)) return false;
  if (m.origin !== undefined && !nameMatches(m.origin, r.origin)) return false;
  if (m.namespace !== undefined && !nameMatches(m.namespace, r.namespace)) return false;
  if (m.destination !== undefined && m.destination !== destination) return false;
  if (m.capability !== undefined) {
    const pattern = m.capability;
    if (!(r.capabilities ?? []).some((c) => nameMatches(pattern, c))) return false;
  }
  if (m.label !== undefined) {
    if (r.label === undefined) return false;
    // A deny covers data at or above its label; an allow, data at or below it.
    const ruleLabel = label(m.label);
    if (rule.effect === 'deny' ? !leq(ruleLabel, r.label) : !leq(r.label, ruleLabel)) return false;
  }
  return true;
}

/** Exactly, or by prefix when the pattern ends in `*`. */
function nameMatches(pattern: string, name: string | undefined): boolean {
  if (name === undefined) return false;
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function ruleDecision(rule: PolicyRule | ActivationRule, request: DecisionRequest): PolicyDecision {
  const verb = rule.effect === 'allow' ? 'allows' : 'denies';
  const why = 'reason' in rule && rule.reason !== undefined ? `: ${rule.reason}` : '';
  return {
    effect: rule.effect,
    rule_id: rule.rule_id,
    reason: `${rule.rule_id} ${verb} ${describe(request)}${why}`,
  };
}

function describe(request: DecisionRequest): string {
  switch (request.kind) {
    case 'operation':
      return request.operation;
    case 'egress':
      return `${request.operation} sending to ${request.origin}`;
    case 'skill':
      return `skill ${request.skill_id}`;
    case 'memory':
      return `memory namespace ${request.namespace}`;
    case 'activation':
      return `a message from ${request.message.sender} in ${request.message.channel}`;
  }
}

function decideActivation(pack: PolicyPack, message: ActivationMessage): PolicyDecision {
  const rules = pack.activation_rules ?? [];
  const request: DecisionRequest = { kind: 'activation', message };
  const denied = rules.find((r) => r.effect === 'deny' && activates(r, message));
  if (denied !== undefined) return ruleDecision(denied, request);
  // Defence in depth: a loaded pack holds no allow rule the constitution refuses.
  const allowed = rules.find(
    (r) => r.effect === 'allow' && activates(r, message) && withinConstitution(r),
  );
  if (allowed !== undefined) return ruleDecision(allowed, request);
  return {
    effect: 'deny',
    rule_id: RULE_ACTIVATION_DEFAULT_DENY,
    reason: `no activation rule of pack ${pack.id} wakes an agent for ${describe(request)}`,
  };
}

/** `constitution.activation_needs_trigger` and `constitution.group_activation_needs_allowlist`. */
function withinConstitution(rule: ActivationRule): boolean {
  const { trigger, senders } = rule.match;
  return trigger === 'direct' || (trigger !== undefined && senders !== undefined);
}

function activates(rule: ActivationRule, message: ActivationMessage): boolean {
  const m = rule.match;
  if (m.senders !== undefined && !m.senders.includes(message.sender)) return false;
  if (m.channels !== undefined && !m.channels.includes(message.channel)) return false;
  switch (m.trigger) {
    case undefined:
      return true;
    case 'direct':
      return message.direct;
    case 'mention':
      return message.mentions_agent;
    case 'keyword':
      return (m.keywords ?? []).some((k) => hasWord(message.text, k));
  }
}

/** `word` appears in `text` as a whole word (or phrase), case-insensitively. */
function hasWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}
