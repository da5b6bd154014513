import type { OutboundContent } from '../../contracts/outbox.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import { labelAllowed } from '../policy/label-rules.ts';
import { describeLabel, label, leq, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';

/** The rules that refuse an outbound message before it is queued, as the chain names them. */
export const OUTBOUND_RULES = {
  /** Content labelled above `pii.redacted` (a raw message, metadata, a secret, internals). */
  label: 'egress.label',
  /** Text holding a known secret value or a credential pattern, whatever its label says. */
  secret: 'egress.secret',
  /** A connector with no outbound transport, or a channel the run may not send to. */
  channel: 'egress.channel',
} as const;

/** The most a message may carry out: public, or personal data after redaction (the contract's send). */
const MOST_SENDABLE: Label = label('pii.redacted');

export type GateRefusal = { rule_id: string; reason: string };

/**
 * Judges content before it is queued (CHAT-SECURITY-CONTRACT.md, "Egress"): only `public` or
 * `pii.redacted` content leaves — a `pii.chat.*`, `pii.attachment`, `secret.*` or
 * `internal.system` value must be declassified first — and no text holding a secret the host
 * knows or a credential pattern leaves at all, since a label can be wrong and a literal cannot.
 */
export function judgeOutbound(
  content: OutboundContent,
  contentLabel: Label,
  redactor: Redactor,
): GateRefusal | undefined {
  const texts = [content.text, content.reply_to ?? ''];
  if (texts.some((t) => redactor.holdsKnownValue(t) || redactor.redactString(t) !== t))
    return {
      rule_id: OUTBOUND_RULES.secret,
      reason: 'the message holds a secret or a credential; nothing was queued',
    };
  if (!leq(contentLabel, MOST_SENDABLE))
    return {
      rule_id: OUTBOUND_RULES.label,
      reason: `the message derives from ${describeLabel(contentLabel)} data; only public or pii.redacted content may be sent (summarize or redact it, then declassify if needed)`,
    };
  return undefined;
}

/** What the pack's label rules say of a message's content before it is queued. */
export type OutboundLabelVerdict =
  { kind: 'allow' } | { kind: 'ask'; rule_id: string } | { kind: 'deny'; refusal: GateRefusal };

/**
 * The pack's label rules for the `outbound_connector` destination (`labelAllowed`, the
 * constitution first): public content goes; `pii.redacted` goes only through an egress
 * exception (the default pack's `exception.redacted_to_outbound_connector`), so with a
 * person's approval of each message — the contract's "approved `pii.redacted`"; a pack with no
 * exception (`strict`) refuses it. A message to this machine's own UI (`onMachine`) is not
 * egress: the person reads it here, and content above `pii.redacted` is still refused by
 * `judgeOutbound`.
 */
export function outboundLabelVerdict(
  contentLabel: Label,
  pack: PolicyPack,
  onMachine: boolean,
): OutboundLabelVerdict {
  if (onMachine) return { kind: 'allow' };
  const decision = labelAllowed(pack, contentLabel, 'outbound_connector');
  if (!decision.allowed)
    return {
      kind: 'deny',
      refusal: { rule_id: decision.rule_id, reason: `${decision.reason}; nothing was queued` },
    };
  return decision.needs_approval ? { kind: 'ask', rule_id: decision.rule_id } : { kind: 'allow' };
}
