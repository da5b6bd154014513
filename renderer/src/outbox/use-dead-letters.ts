import { useQuery } from '@tanstack/react-query';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { deadCountText } from './outbox-facts.ts';

/** One page of dead letters is enough to count: past it the count says "100+". */
const COUNT_LIMIT = 100;

/**
 * How many dead letters there are, as the navigation and the page's filter say it ("3",
 * "100+"), or undefined while unknown or when there is none. One query for both, kept fresh by
 * the event stream's outbox entries.
 */
export function useDeadLetterCount(): { count: number; text: string } | undefined {
  const { client } = useServices();
  const dead = useQuery({
    queryKey: queryKeys.deadLetters,
    queryFn: () => client.call('listOutbox', { query: { state: 'dead', limit: COUNT_LIMIT } }),
  });
  const count = dead.data?.messages.length ?? 0;
  if (dead.data === undefined || count === 0) return undefined;
  return { count, text: deadCountText(count, dead.data.next_cursor !== null) };
}
