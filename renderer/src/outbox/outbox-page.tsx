import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { OutboxState } from '../../../contracts/outbox.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { countHeading, stateFromSearch, stateText } from './outbox-facts.ts';
import { OutboxRow } from './outbox-row.tsx';
import { OutboxStateFilter } from './outbox-state-filter.tsx';
import { useDeadLetterCount } from './use-dead-letters.ts';

/** The API's page size for the list; the page says when there may be more than it shows. */
const LIMIT = 200;

/**
 * The outbox (issue 23) for the person: every message runs sent, newest first, with its state,
 * channel, run, attempts and what comes next; dead letters one press away. Refreshed by the
 * event stream (queued, each attempt's end, each admin action), never by polling.
 */
export function OutboxPage(): ReactNode {
  const { client } = useServices();
  const [state, setState] = useState<OutboxState | ''>(() =>
    stateFromSearch(window.location.search),
  );
  const filter = state === '' ? {} : { state };
  const list = useQuery({
    queryKey: queryKeys.outbox(filter),
    queryFn: () => client.call('listOutbox', { query: { ...filter, limit: LIMIT } }),
  });
  const dead = useDeadLetterCount();
  const choose = (next: OutboxState | ''): void => {
    // The address follows the filter, so a reload or a shared link shows the same view.
    window.history.replaceState(null, '', next === '' ? '/outbox' : `/outbox?state=${next}`);
    setState(next);
  };
  const messages = list.data?.messages ?? [];
  const now = Date.now();
  return (
    <section className="page" aria-labelledby="outbox-title">
      <h1 id="outbox-title">Outbox</h1>
      <p className="muted">
        Every message an agent sends waits here until its connector’s receiver takes it. A dead
        letter is never sent unless you retry it; the audit chain records each retry and discard.
      </p>
      <OutboxStateFilter state={state} deadCount={dead?.text} onChange={choose} />
      <h2 aria-live="polite">
        {list.isSuccess ? countHeading(messages.length, state) : 'Messages'}
      </h2>
      {list.isPending ? (
        <Loading what="the outbox" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : messages.length === 0 ? (
        state === '' ? (
          <Empty title="No messages yet">
            A message appears here when an agent sends one (the ccos__send_message tool) to a
            connector with an outbound address: add one on the Connectors page.
          </Empty>
        ) : (
          <Empty title={state === 'dead' ? 'No dead letters' : `No message is ${stateText(state)}`}>
            {state === 'dead'
              ? 'Nothing waits for you: every message was delivered or is still being tried.'
              : 'Choose All to see every message.'}
          </Empty>
        )
      ) : (
        <>
          {list.data.next_cursor === null ? null : (
            <p className="muted">Showing the newest {LIMIT}: filter by state to see others.</p>
          )}
          <ul className="outbox-list">
            {messages.map((m) => (
              <OutboxRow key={m.id} message={m} now={now} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
