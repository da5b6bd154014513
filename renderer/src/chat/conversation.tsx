import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import type { ChatConversation, ChatMessage } from '../../../contracts/chat.ts';
import { useServices } from '../api/app-context.tsx';
import type { UiApiClient } from '../api/api-client.ts';
import { queryKeys } from '../api/query-keys.ts';
import { Link } from '../router.tsx';
import { ErrorState, Loading } from '../ui/states.tsx';
import { LOCAL_CHAT, mergeConversation, replyOfFrame } from './chat-facts.ts';
import { ChatComposer } from './chat-composer.tsx';
import { ChatMessages } from './chat-messages.tsx';

/** Pages read on open: a longer history shows its newest part after a note. */
const MAX_PAGES = 20;
const PAGE_SIZE = 200;

/** The whole history, page by page (oldest first), up to MAX_PAGES of them. */
async function loadHistory(
  client: UiApiClient,
  channel: string,
): Promise<ChatConversation & { truncated: boolean }> {
  let page = await client.call('getChatConversation', {
    params: { channel },
    query: { connector: LOCAL_CHAT, limit: PAGE_SIZE },
  });
  const messages = [...page.messages];
  for (let n = 1; page.next_cursor !== null && n < MAX_PAGES; n += 1) {
    page = await client.call('getChatConversation', {
      params: { channel },
      query: { connector: LOCAL_CHAT, limit: PAGE_SIZE, after: page.next_cursor },
    });
    messages.push(...page.messages);
  }
  return { ...page, messages, truncated: page.next_cursor !== null };
}

/**
 * One conversation: its history (read again after a send and when its channel is decided),
 * the agent's replies as their `message.outbound` frames arrive, and the message box.
 */
export function Conversation(props: { channel: string }): ReactNode {
  const { client, live } = useServices();
  const history = useQuery({
    queryKey: queryKeys.chat(LOCAL_CHAT, props.channel),
    queryFn: () => loadHistory(client, props.channel),
  });
  const [replies, setReplies] = useState<readonly ChatMessage[]>([]);
  useEffect(
    () =>
      live.subscribe((event) => {
        const reply = replyOfFrame(event, LOCAL_CHAT, props.channel);
        if (reply !== undefined) setReplies((r) => [...r, reply]);
      }),
    [live, props.channel],
  );
  const connection = history.data?.connection ?? null;
  return (
    <section className="chat-conversation" aria-labelledby="conversation-title">
      <h2 id="conversation-title">
        Conversation <code>{props.channel}</code>
      </h2>
      {connection?.state === 'pending_approval' ? (
        <p className="chat-notice" role="status" data-testid="waiting-approval">
          This conversation waits for your approval: no agent sees its messages until then.{' '}
          <Link to="/approvals">Decide in the approvals inbox</Link>
        </p>
      ) : connection?.state === 'denied' ? (
        <p className="chat-notice" role="status">
          This conversation was denied: its messages reach no agent. Start another one.
        </p>
      ) : null}
      {history.isPending ? (
        <Loading what="the conversation" />
      ) : history.isError ? (
        <ErrorState error={history.error} retry={() => void history.refetch()} />
      ) : (
        <>
          {history.data.truncated ? (
            <p className="muted">Only the first {MAX_PAGES * PAGE_SIZE} messages are shown.</p>
          ) : null}
          <ChatMessages messages={mergeConversation(history.data.messages, replies)} />
        </>
      )}
      {connection?.state === 'denied' ? null : <ChatComposer channel={props.channel} />}
    </section>
  );
}
