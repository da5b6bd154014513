import type { ReactNode } from 'react';
import type { DeliveryAttempt } from '../../../contracts/outbox.ts';
import { when } from '../ui/format.ts';
import { attemptText } from './outbox-facts.ts';

/** Each attempt of one message, oldest first: when, the receiver's answer, why it failed. */
export function DeliveryHistory(props: { attempts: readonly DeliveryAttempt[] }): ReactNode {
  if (props.attempts.length === 0)
    return <p className="muted">No attempt yet: the dispatcher sends it when it is due.</p>;
  return (
    <table className="attempts">
      <caption className="sr-only">Delivery attempts</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Started</th>
          <th scope="col">Result</th>
          <th scope="col">Took</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        {props.attempts.map((a) => (
          <tr key={a.attempt} data-testid="outbox-attempt" data-outcome={a.outcome}>
            <td>{a.attempt}</td>
            <td>{when(a.started_at)}</td>
            <td>{attemptText(a)}</td>
            <td>{a.latency_ms === null ? '—' : `${a.latency_ms} ms`}</td>
            {/* The host's redacted error text, shown as text. */}
            <td>{a.message ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
