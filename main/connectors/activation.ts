import type { ActivationRules, RawInboundMessage } from '../../contracts/connector-adapter.ts';
import type { Activation } from '../../contracts/message-envelope.ts';

/**
 * Whether a message wakes an agent (CHAT-SECURITY-CONTRACT.md, "Activation and consent"): a
 * direct message does; a group message only when it mentions one of the agent's names or
 * holds one of its keywords, and only from an allowlisted sender — whatever it says.
 */
export function activationOf(message: RawInboundMessage, rules: ActivationRules): Activation {
  if (message.chat_type === 'direct') return { activated: true, reason: 'direct' };
  const mentioned = (message.mentions ?? []).some((m) =>
    rules.mention_names.some((name) => name.toLowerCase() === m.toLowerCase()),
  );
  const words = new Set(message.text.toLowerCase().split(/[^\p{L}\p{N}_-]+/u));
  const keyword = rules.keywords.some((k) => words.has(k.toLowerCase()));
  if (!mentioned && !keyword) return { activated: false, reason: 'not_addressed' };
  // Checked after addressing, so the reason a person reads says the sender was the obstacle.
  if (!rules.group_sender_allowlist.includes(message.sender_id))
    return { activated: false, reason: 'sender_not_allowlisted' };
  return { activated: true, reason: mentioned ? 'mention' : 'keyword' };
}
