import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { deadCountText } from './outbox-facts.ts';

/** One page of dead letters is enough to count: past it the badge says "100+". */
const COUNT_LIMIT = 100;

/**
 * The navigation's dead-letter count: a message nobody retries or discards is never sent, so
 * it must be seen from every page (OpenClaw's dead letters sat unseen: openclaw#112313). Kept
 * fresh by the event stream (outbox entries invalidate it); nothing shows while there is none.
 */
export function DeadLettersBadge(): ReactNode {
  const { client } = useServices();
  const dead = useQuery({
    queryKey: queryKeys.deadLetters,
    queryFn: () => client.call('listOutbox', { query: { state: 'dead', limit: COUNT_LIMIT } }),
  });
  const count = dead.data?.messages.length ?? 0;
  if (count === 0 || dead.data === undefined) return null;
  const text = deadCountText(count, dead.data.next_cursor !== null);
  return (
    <span
      className="nav-badge"
      data-testid="dead-letters-badge"
      aria-label={`${text} dead ${count === 1 ? 'letter' : 'letters'}`}
    >
      {text}
    </span>
  );
}
