import { useInfiniteQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { runStateSchema, type RunState } from '../../../contracts/runs.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { CreateRunForm } from './create-run-form.tsx';
import { RunList } from './run-list.tsx';

const PAGE_SIZE = 500;

/** Runs: start one, filter by state, search goals, and watch each one's budget live. */
export function RunsPage(): ReactNode {
  const { client } = useServices();
  const [state, setState] = useState<RunState | ''>('');
  const [search, setSearch] = useState('');
  const filter = state === '' ? {} : { state };
  const runs = useInfiniteQuery({
    queryKey: queryKeys.runs(filter),
    queryFn: ({ pageParam }) =>
      client.call('listRuns', {
        query: { ...filter, limit: PAGE_SIZE, ...(pageParam === '' ? {} : { before: pageParam }) },
      }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
  const all = useMemo(() => runs.data?.pages.flatMap((p) => p.runs) ?? [], [runs.data]);
  const needle = search.trim().toLowerCase();
  const shown = useMemo(
    () =>
      needle === ''
        ? all
        : all.filter((r) => r.goal.toLowerCase().includes(needle) || r.id.includes(needle)),
    [all, needle],
  );
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = runs;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <section className="page runs-page" aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <CreateRunForm />
      <div className="toolbar" role="search">
        <label>
          State
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value === '' ? '' : runStateSchema.parse(e.target.value));
            }}
          >
            <option value="">all</option>
            {runStateSchema.options.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input
            type="search"
            value={search}
            placeholder="goal or run id"
            onChange={(e) => {
              setSearch(e.target.value);
            }}
          />
        </label>
        <span className="muted" aria-live="polite">
          {runs.isSuccess ? `${shown.length} shown${hasNextPage ? ' (more on scroll)' : ''}` : ''}
        </span>
      </div>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.isError ? (
        <ErrorState error={runs.error} retry={() => void runs.refetch()} />
      ) : shown.length === 0 ? (
        <Empty title={all.length === 0 ? 'No runs yet' : 'No run matches'}>
          {all.length === 0
            ? 'Give an agent a goal above. It starts as soon as the host has an LLM provider (Settings).'
            : 'Clear the search or pick another state.'}
        </Empty>
      ) : (
        <RunList runs={shown} hasMore={hasNextPage} loadMore={loadMore} />
      )}
    </section>
  );
}
