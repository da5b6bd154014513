import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type SyntheticEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { InlineError } from '../ui/states.tsx';
import { isSendKey, LOCAL_CHAT } from './chat-facts.ts';

/** The message box: Enter sends, Shift+Enter starts a new line. */
export function ChatComposer(props: { channel: string }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [text, setText] = useState('');
  const send = useMutation({
    mutationFn: (body: string) =>
      client.call('postChatMessage', {
        query: { connector: LOCAL_CHAT },
        // A fresh id per message: the API treats a second post with one id as a duplicate.
        body: { id: `ui-${crypto.randomUUID()}`, channel_id: props.channel, text: body },
      }),
    onSuccess: async () => {
      setText('');
      await Promise.all([
        queries.invalidateQueries({ queryKey: queryKeys.chat(LOCAL_CHAT, props.channel) }),
        // A first message opens the channel: the conversation list shows it.
        queries.invalidateQueries({ queryKey: queryKeys.connector(LOCAL_CHAT) }),
      ]);
    },
  });
  const submit = (): void => {
    if (text.trim() === '' || send.isPending) return;
    send.mutate(text);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (!isSendKey({ key: e.key, shiftKey: e.shiftKey, isComposing: e.nativeEvent.isComposing }))
      return;
    e.preventDefault();
    submit();
  };
  return (
    <form
      className="chat-composer"
      aria-label="Send a message"
      onSubmit={(e: SyntheticEvent) => {
        e.preventDefault();
        submit();
      }}
    >
      <label htmlFor="chat-text">Message</label>
      <textarea
        id="chat-text"
        name="chat_text"
        rows={3}
        value={text}
        aria-describedby="chat-keys"
        onChange={(e) => {
          setText(e.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <p id="chat-keys" className="muted">
        Enter sends; Shift+Enter starts a new line.
      </p>
      <button type="submit" disabled={send.isPending || text.trim() === ''}>
        Send
      </button>
      <InlineError error={send.error} />
    </form>
  );
}
