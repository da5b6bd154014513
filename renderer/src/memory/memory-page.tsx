import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import {
  describeFilter,
  filterFromSearch,
  searchOfFilter,
  type MemoryFilter,
} from './memory-filter.ts';
import { MemoryFilterForm } from './memory-filter-form.tsx';
import { MemoryItemCard } from './memory-item-card.tsx';
import { PurgeMemory } from './purge-memory.tsx';

/** The API's page size at most; the page says when there may be more than it shows. */
const LIMIT = 500;

/**
 * Governed memory (issue 22) for the person: what agents and skills stored, per run, session
 * and namespace, with each item's label, taint, source, audience and expiry; the value as the
 * host redacted it; delete one or purge a scope, both on the audit chain.
 */
export function MemoryPage(): ReactNode {
  const { client } = useServices();
  const [filter, setFilter] = useState<MemoryFilter>(() =>
    filterFromSearch(window.location.search),
  );
  const list = useQuery({
    queryKey: queryKeys.memory(filter),
    queryFn: () => client.call('listMemory', { query: { ...filter, limit: LIMIT } }),
  });
  const apply = (next: MemoryFilter): void => {
    // The address follows the filter, so the view can be reloaded or shared as a link.
    window.history.replaceState(null, '', `/memory${searchOfFilter(next)}`);
    setFilter(next);
  };
  // A filter set from outside the form (an item's session) starts the form again from it;
  // the form's own submit does not, so the keyboard stays on its Filter button.
  const [formGeneration, setFormGeneration] = useState(0);
  const applyFromItem = (next: MemoryFilter): void => {
    apply(next);
    setFormGeneration((n) => n + 1);
  };
  const items = list.data?.items ?? [];
  const namespaces = [...new Set(items.map((i) => i.namespace))];
  const described = describeFilter(filter);
  return (
    <section className="page" aria-labelledby="memory-title">
      <h1 id="memory-title">Memory</h1>
      <p className="muted">
        What agents and skills remembered. Values are shown as the host redacted them: a secret
        never, personal data to you only.
      </p>
      <MemoryFilterForm
        key={formGeneration}
        filter={filter}
        namespaces={namespaces}
        onApply={apply}
      />
      {/* Keyed by the filter: the purge scope starts from the filter the list now shows. */}
      <PurgeMemory
        key={searchOfFilter(filter)}
        filter={filter}
        listed={list.isSuccess ? items.length : undefined}
      />
      <h2 aria-live="polite">
        {list.isSuccess
          ? `${items.length} ${items.length === 1 ? 'item' : 'items'}${described === '' ? '' : ` of ${described}`}`
          : 'Items'}
      </h2>
      {list.isPending ? (
        <Loading what="memory" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        described === '' ? (
          <Empty title="Nothing remembered yet">
            Items appear here when an agent stores one (the ccos__memory_put tool) or a skill writes
            to its namespace.
          </Empty>
        ) : (
          <Empty title="No items match">
            Nothing is stored for {described}. Clear the filter to see all memory.
          </Empty>
        )
      ) : (
        <>
          {items.length === LIMIT ? (
            <p className="muted">Showing the first {LIMIT}: filter to see the rest.</p>
          ) : null}
          <ul className="memory-list">
            {items.map((item) => (
              <MemoryItemCard key={item.id} item={item} onFilter={applyFromItem} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
