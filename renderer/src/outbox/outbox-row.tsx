import type { ReactNode } from 'react';
import type { OutboxMessage } from '../../../contracts/outbox.ts';
import { Link } from '../router.tsx';
import { age } from '../ui/format.ts';
import { nextText } from './outbox-facts.ts';
import { OutboxStateBadge } from './outbox-state-badge.tsx';

/** One message in the list: where it goes, for which run, how far it got, what comes next. */
export function OutboxRow(props: { message: OutboxMessage; now: number }): ReactNode {
  const m = props.message;
  const titleId = `outbox-${m.id}`;
  return (
    <li className="card outbox-message" data-testid="outbox-message" data-outbox-id={m.id}>
      <article aria-labelledby={titleId}>
        <header>
          <h3 id={titleId}>
            <Link to={`/outbox/${m.id}`}>
              Message <code>{m.id}</code>
            </Link>
          </h3>
          <OutboxStateBadge state={m.state} />
        </header>
        <dl className="facts">
          <dt>To</dt>
          <dd>
            <code>{m.connector_id}</code> / <code>{m.channel_id}</code>
          </dd>
          <dt>Run</dt>
          <dd>
            {m.run_id === null ? (
              'none'
            ) : (
              <Link to={`/runs/${encodeURIComponent(m.run_id)}`}>{m.run_id}</Link>
            )}
          </dd>
          <dt>Attempts</dt>
          <dd>
            {m.attempts} of {m.max_attempts}
          </dd>
          <dt>Next</dt>
          <dd data-testid="outbox-next">{nextText(m, props.now)}</dd>
          <dt>Queued</dt>
          <dd>{age(m.created_at, props.now)}</dd>
        </dl>
      </article>
    </li>
  );
}
