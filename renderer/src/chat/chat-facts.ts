import type { StreamEvent } from '../../../contracts/api.ts';
import {
  chatOutboundFrameSchema,
  type ChatInboundMessage,
  type ChatMessage,
} from '../../../contracts/chat.ts';
import { externalIdSchema } from '../../../contracts/message-envelope.ts';

/** The connector the Chat page talks through (`POST /v1/chat/messages`' default). */
export const LOCAL_CHAT = 'local-chat';

/**
 * The reply a live frame announces, when it is one of this conversation's; undefined for any
 * other event, another connector's or channel's message, or a frame whose row was pruned.
 */
export function replyOfFrame(
  event: StreamEvent,
  connectorId: string,
  channelId: string,
): ChatMessage | undefined {
  if (event.event_type !== 'message.outbound') return undefined;
  const frame = chatOutboundFrameSchema.safeParse(event.data);
  if (!frame.success) return undefined;
  const f = frame.data;
  if (f.connector_id !== connectorId || f.channel_id !== channelId) return undefined;
  return {
    direction: 'outbound',
    id: f.outbox_id,
    at: event.timestamp,
    text: f.text,
    reply_to: f.reply_to ?? null,
    // Published is delivered: the frame is the delivery (main/outbox/local-chat-transport.ts).
    state: 'delivered',
    run_id: event.run_id,
  };
}

/**
 * The conversation as shown: the history the API gave, and the live replies it does not hold
 * yet (a reply is in both once the history is read again; its id makes it one).
 */
export function mergeConversation(
  history: readonly ChatMessage[],
  live: readonly ChatMessage[],
): ChatMessage[] {
  const known = new Set(history.map((m) => m.id));
  const extra = live.filter((m) => !known.has(m.id));
  return [...history, ...extra].sort((a, b) =>
    a.at === b.at ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.at < b.at ? -1 : 1,
  );
}

/** Whether a key press in the message box sends it: Enter alone (Shift+Enter is a newline). */
export function isSendKey(e: { key: string; shiftKey: boolean; isComposing?: boolean }): boolean {
  // While an input method composes (CJK), Enter picks a candidate; it must not send.
  return e.key === 'Enter' && !e.shiftKey && e.isComposing !== true;
}

/** Why a new conversation's name is refused, or null when it is a channel id the API takes. */
export function channelNameProblem(name: string): string | null {
  const parsed = externalIdSchema.safeParse(name);
  if (parsed.success) return null;
  return 'Use 1 to 200 letters, digits or punctuation, without spaces.';
}

/** What a message's state means to the person. */
export function inboundStateText(
  state: 'waiting' | 'routed' | 'not_activated' | 'refused',
): string {
  switch (state) {
    case 'waiting':
      return 'waiting for the channel’s approval';
    case 'routed':
      return 'given to the agent';
    case 'not_activated':
      return 'not addressed to the agent';
    case 'refused':
      return 'refused: the channel was denied';
  }
}

/** What a reply's delivery state means to the person. */
export function outboundStateText(state: 'queued' | 'in_flight' | 'delivered' | 'dead'): string {
  switch (state) {
    case 'queued':
      return 'queued';
    case 'in_flight':
      return 'being delivered';
    case 'delivered':
      return 'delivered';
    case 'dead':
      return 'not delivered (dead letter)';
  }
}

/**
 * The road a message took to the agent, in words: the transforms whose outputs it was given
 * instead of the text (`ccos.transform.summarize` → "summarize"); null before any.
 */
export function roadText(seen: ChatInboundMessage['seen_through']): string | null {
  if (seen.length === 0) return null;
  const names = [
    ...new Set(
      seen.map(
        (v) =>
          `${v.capability_id.split('.').at(-1) ?? v.capability_id} (${v.label.join('+') || 'public'})`,
      ),
    ),
  ];
  return `The agent never saw this text; it read it through ${names.join(', ')}.`;
}
