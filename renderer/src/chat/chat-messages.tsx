import type { ReactNode } from 'react';
import type { ChatMessage } from '../../../contracts/chat.ts';
import { when } from '../ui/format.ts';
import { inboundStateText, outboundStateText, roadText } from './chat-facts.ts';

/**
 * The messages, oldest first. Text is rendered as text (React escapes it; no HTML is ever
 * parsed from a message), with its line breaks kept by CSS.
 */
export function ChatMessages(props: { messages: readonly ChatMessage[] }): ReactNode {
  if (props.messages.length === 0)
    return <p className="muted">No messages yet: write the first one below.</p>;
  return (
    <ol className="chat-messages" aria-label="Messages" aria-live="polite">
      {props.messages.map((m) => (
        <li
          key={m.id}
          className={`chat-message chat-${m.direction}`}
          data-direction={m.direction}
          data-message-id={m.id}
        >
          <p className="chat-meta">
            <strong>{m.direction === 'inbound' ? 'You' : 'Agent'}</strong>{' '}
            <time dateTime={m.at}>{when(m.at)}</time>{' '}
            <span className="muted" data-testid="message-state">
              {m.direction === 'inbound' ? inboundStateText(m.state) : outboundStateText(m.state)}
            </span>
          </p>
          {m.text === null ? (
            <p className="muted">
              {m.direction === 'inbound' && m.text_gone === 'expired'
                ? 'The text has expired from the quarantine.'
                : 'The text was purged.'}
            </p>
          ) : (
            <p className="chat-text" data-testid="message-text">
              {m.text}
            </p>
          )}
          {m.direction === 'inbound' && roadText(m.seen_through) !== null ? (
            <p className="muted chat-road" data-testid="message-road">
              {roadText(m.seen_through)}
            </p>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
