import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError } from '../api/api-client.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { ChannelPicker } from './channel-picker.tsx';
import { LOCAL_CHAT } from './chat-facts.ts';
import { Conversation } from './conversation.tsx';

/**
 * Chat (issue 24): the person talks to an agent through the local chat connector. Their
 * messages take the road of any channel's — quarantine, the channel approval, transforms — so
 * a new conversation waits for approval in the inbox before an agent sees anything.
 */
export function ChatPage(props: { channel: string | null }): ReactNode {
  const { client } = useServices();
  const adapter = useQuery({
    queryKey: queryKeys.connector(LOCAL_CHAT),
    queryFn: () => client.call('getConnectorAdapter', { params: { id: LOCAL_CHAT } }),
    retry: false,
  });
  const missing = adapter.error instanceof ApiError && adapter.error.code === 'NOT_FOUND';
  return (
    <section className="page" aria-labelledby="chat-title">
      <h1 id="chat-title">Chat</h1>
      <p className="muted">
        Talk to an agent on this machine. Your messages are quarantined and labelled like any
        channel’s: the agent reads them only through a transform (a summary, an extract).
      </p>
      {adapter.isPending ? (
        <Loading what="the local chat" />
      ) : missing ? (
        <Empty title="No local chat yet">
          Add a connector named <code>{LOCAL_CHAT}</code> with the local chat adapter on the{' '}
          <Link to="/connectors">Connectors page</Link>; its goal is what the agent is asked to do
          with your messages.
        </Empty>
      ) : adapter.isError ? (
        <ErrorState error={adapter.error} retry={() => void adapter.refetch()} />
      ) : (
        <div className="chat-layout">
          <ChannelPicker connections={adapter.data.connections} current={props.channel} />
          {props.channel === null ? (
            <Empty title="No conversation open">
              Pick a conversation, or start one with a name; its first message asks for your
              approval.
            </Empty>
          ) : (
            <Conversation key={props.channel} channel={props.channel} />
          )}
        </div>
      )}
    </section>
  );
}
