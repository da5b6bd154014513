import { useState, type SyntheticEvent, type ReactNode } from 'react';
import type { Connection } from '../../../contracts/connector-adapter.ts';
import { connectionText } from '../connectors/connector-facts.ts';
import { Link, navigate } from '../router.tsx';
import { channelNameProblem } from './chat-facts.ts';

/** The conversations (the local chat's channels) and a form to start a new one. */
export function ChannelPicker(props: {
  connections: readonly Connection[];
  current: string | null;
}): ReactNode {
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const start = (e: SyntheticEvent): void => {
    e.preventDefault();
    const trimmed = name.trim();
    const why = channelNameProblem(trimmed);
    setProblem(why);
    if (why !== null) return;
    setName('');
    navigate(`/chat/${encodeURIComponent(trimmed)}`);
  };
  return (
    <nav className="chat-channels" aria-label="Conversations">
      <h2>Conversations</h2>
      {props.connections.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul>
          {props.connections.map((c) => (
            <li key={c.id} data-channel={c.channel_id}>
              <Link
                to={`/chat/${encodeURIComponent(c.channel_id)}`}
                ariaCurrent={c.channel_id === props.current}
              >
                {c.channel_id}
              </Link>{' '}
              <span className={`badge connection-${c.state}`}>{connectionText(c.state)}</span>
            </li>
          ))}
        </ul>
      )}
      <form aria-label="New conversation" onSubmit={start}>
        <label>
          Name
          <input
            name="channel_name"
            value={name}
            aria-invalid={problem !== null}
            aria-describedby={problem === null ? undefined : 'channel-name-problem'}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        </label>
        <button type="submit">Start a conversation</button>
        {problem === null ? null : (
          <p id="channel-name-problem" role="alert" className="inline-error">
            {problem}
          </p>
        )}
      </form>
    </nav>
  );
}
