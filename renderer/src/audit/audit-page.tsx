import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { chainEventTypeSchema } from '../../../contracts/chain.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { RunTimeline } from '../runs/run-timeline.tsx';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { VerifyChain } from './verify-chain.tsx';

const PAGE = 200;

/** A datetime-local value as an ISO instant, or undefined when empty. */
const instant = (local: string): string | undefined =>
  local === '' ? undefined : new Date(local).toISOString();

/** The causal chain: filter by run, type and time; open an entry; verify the whole chain. */
export function AuditPage(): ReactNode {
  const { client } = useServices();
  const [runId, setRunId] = useState('');
  const [type, setType] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const filter = {
    ...(runId.trim() === '' ? {} : { run_id: runId.trim() }),
    ...(type === '' ? {} : { event_type: chainEventTypeSchema.parse(type) }),
    ...(instant(since) === undefined ? {} : { since: instant(since) }),
    ...(instant(until) === undefined ? {} : { until: instant(until) }),
  };
  const chain = useInfiniteQuery({
    queryKey: queryKeys.chain(filter),
    queryFn: ({ pageParam }) =>
      client.call('queryChain', { query: { ...filter, after_seq: pageParam, limit: PAGE } }),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_after_seq ?? undefined,
  });
  const entries = chain.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <section className="page" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <VerifyChain />
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label>
          Run
          <input
            value={runId}
            placeholder="run id"
            onChange={(e) => {
              setRunId(e.target.value);
            }}
          />
        </label>
        <label>
          Type
          <select
            value={type}
            onChange={(e) => {
              setType(e.target.value);
            }}
          >
            <option value="">all</option>
            {chainEventTypeSchema.options.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={since}
            onChange={(e) => {
              setSince(e.target.value);
            }}
          />
        </label>
        <label>
          Until
          <input
            type="datetime-local"
            value={until}
            onChange={(e) => {
              setUntil(e.target.value);
            }}
          />
        </label>
      </form>
      {chain.isPending ? (
        <Loading what="the chain" />
      ) : chain.isError ? (
        <ErrorState error={chain.error} retry={() => void chain.refetch()} />
      ) : entries.length === 0 ? (
        <Empty title="No entries match">Clear a filter to see more of the chain.</Empty>
      ) : (
        <>
          <RunTimeline entries={entries} steps={[]} />
          {chain.hasNextPage ? (
            <button
              type="button"
              onClick={() => void chain.fetchNextPage()}
              disabled={chain.isFetchingNextPage}
            >
              Load more
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
