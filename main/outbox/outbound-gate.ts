import type { OutboundContent } from '../../contracts/outbox.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import { describeLabel, includes, label, leq, type Label } from '../policy/labels.ts';
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

/**
 * `pii.redacted` content leaving the machine (CHAT-SECURITY-CONTRACT.md: "approved
 * `pii.redacted`", and only "under an explicit policy exception with approval"): refused
 * under the default pack, asked of a person for each message under `egress_label: approval`,
 * not judged under `off`. A message to this machine's own UI is not egress. Content above
 * `pii.redacted` is `judgeOutbound`'s to refuse.
 */
export function redactedEgressVerdict(
  contentLabel: Label,
  pack: Pick<PolicyPack, 'egress_label'>,
  onMachine: boolean,
): 'ask' | GateRefusal | undefined {
  const rule = pack.egress_label ?? 'deny';
  if (onMachine || rule === 'off' || !includes(contentLabel, 'pii.redacted')) return undefined;
  if (rule === 'approval') return 'ask';
  return {
    rule_id: OUTBOUND_RULES.label,
    reason:
      'the message derives from pii.redacted data, which leaves this machine only under the policy pack\'s egress exception (egress_label: approval) and with a person\'s approval of each message; nothing was queued',
  };
}
