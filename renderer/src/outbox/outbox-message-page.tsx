import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Link } from '../router.tsx';
import { when } from '../ui/format.ts';
import { ErrorState, Loading } from '../ui/states.tsx';
import { DeliveryHistory } from './delivery-history.tsx';
import { categoryText, nextText } from './outbox-facts.ts';
import { OutboxActions } from './outbox-actions.tsx';
import { OutboxStateBadge } from './outbox-state-badge.tsx';

/**
 * One outbound message as `GET /v1/outbox/{id}` gives it: its text as the host stored it
 * (redacted on write and again on the way out), its idempotency key, every attempt, and the
 * person's retry or discard. Refreshed live, so an attempt that ends shows at once.
 */
export function OutboxMessagePage(props: { id: string }): ReactNode {
  const { client } = useServices();
  const detail = useQuery({
    queryKey: queryKeys.outboxMessage(props.id),
    queryFn: () => client.call('getOutboxMessage', { params: { id: props.id } }),
  });
  return (
    <section className="page outbox-detail" aria-labelledby="outbox-message-title">
      <p>
        <Link to="/outbox">← All messages</Link>
      </p>
      <h1 id="outbox-message-title">
        Message <code>{props.id}</code>
      </h1>
      {detail.isPending ? (
        <Loading what="the message" />
      ) : detail.isError ? (
        <ErrorState error={detail.error} retry={() => void detail.refetch()} />
      ) : (
        <>
          <p>
            <OutboxStateBadge state={detail.data.state} />{' '}
            <span data-testid="outbox-next">{nextText(detail.data, Date.now())}</span>
          </p>
          <OutboxActions message={detail.data} />
          <h2>Text as stored</h2>
          <p className="muted">
            Redacted by the host before it was queued: this is all that can ever leave.
          </p>
          {/* Plain text, never markup: the text is the agent's, and may come from a stranger. */}
          <pre className="message-text" data-testid="outbox-text">
            {detail.data.content.text}
          </pre>
          <dl className="facts">
            <dt>To</dt>
            <dd>
              connector <code>{detail.data.connector_id}</code>, channel{' '}
              <code>{detail.data.channel_id}</code>
            </dd>
            {detail.data.content.reply_to === undefined ? null : (
              <>
                <dt>Answers</dt>
                <dd>
                  <code>{detail.data.content.reply_to}</code>
                </dd>
              </>
            )}
            <dt>Run</dt>
            <dd>
              {detail.data.run_id === null ? (
                'none'
              ) : (
                <Link to={`/runs/${encodeURIComponent(detail.data.run_id)}`}>
                  {detail.data.run_id}
                </Link>
              )}
            </dd>
            <dt>Step</dt>
            <dd>{detail.data.step_id ?? 'none'}</dd>
            <dt>Idempotency key</dt>
            <dd>
              <code data-testid="outbox-key">{detail.data.idempotency_key}</code>
            </dd>
            <dt>Label</dt>
            {/* No atom means `public`: the only content a connector sends without an approval. */}
            <dd data-testid="outbox-label">
              {detail.data.label.length === 0 ? 'public' : detail.data.label.join(', ')}
            </dd>
            <dt>Attempts</dt>
            <dd>
              {detail.data.attempts} of {detail.data.max_attempts}
            </dd>
            <dt>Last error</dt>
            <dd>
              {detail.data.last_error_category === null
                ? 'none'
                : `${categoryText(detail.data.last_error_category)}${detail.data.last_error === null ? '' : `: ${detail.data.last_error}`}`}
            </dd>
            <dt>Queued</dt>
            <dd>{when(detail.data.created_at)}</dd>
            <dt>Changed</dt>
            <dd>{when(detail.data.updated_at)}</dd>
          </dl>
          <h2>Delivery history</h2>
          <DeliveryHistory attempts={detail.data.history} />
        </>
      )}
    </section>
  );
}
