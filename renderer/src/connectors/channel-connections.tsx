import type { ReactNode } from 'react';
import type { Approval } from '../../../contracts/approvals.ts';
import type { Connection } from '../../../contracts/connector-adapter.ts';
import { Link } from '../router.tsx';
import { age, duration } from '../ui/format.ts';
import { connectionText } from './connector-facts.ts';

/**
 * A connector's channels and their state. A waiting one links to the approvals inbox, where it
 * is decided like every other approval (one place to decide, one road on the chain).
 */
export function ChannelConnections(props: {
  connectorId: string;
  connections: readonly Connection[];
  /** The pending approvals, to show a waiting channel's deadline. */
  pending: readonly Approval[];
}): ReactNode {
  if (props.connections.length === 0)
    return (
      <p className="muted">
        No channel yet: the first message on a channel opens one and asks for your approval.
      </p>
    );
  return (
    <table className="connections">
      <caption className="sr-only">Channels of {props.connectorId}</caption>
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">State</th>
          <th scope="col">Since</th>
        </tr>
      </thead>
      <tbody>
        {props.connections.map((c) => {
          const approval = props.pending.find((a) => a.id === c.approval_id);
          return (
            <tr
              key={c.id}
              data-testid="connection"
              data-channel={c.channel_id}
              data-state={c.state}
            >
              <td>
                <code>{c.channel_id}</code>
              </td>
              <td>
                <span className={`badge connection-${c.state}`}>{connectionText(c.state)}</span>
                {c.state === 'pending_approval' ? (
                  <>
                    {' '}
                    <Link to="/approvals">
                      Decide in the approvals inbox
                      <span className="sr-only"> (channel {c.channel_id})</span>
                    </Link>
                    {approval?.expires_in_ms == null ? null : (
                      <span className="muted"> ({duration(approval.expires_in_ms)} left)</span>
                    )}
                  </>
                ) : null}
              </td>
              <td>{age(c.decided_at ?? c.created_at)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
