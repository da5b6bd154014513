import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Link } from '../router.tsx';
import { when } from '../ui/format.ts';
import { JsonView } from '../ui/json-view.tsx';
import { ErrorState, Loading } from '../ui/states.tsx';
import type { MemoryFilter } from './memory-filter.ts';

/**
 * One item as `GET /v1/memory/{id}` gives it now: the value already redacted by the host (by
 * the redactor and by label) and shown as it came; the page never asks for more.
 */
export function MemoryItemDetail(props: {
  id: string;
  elementId: string;
  /** Narrows the page's list, e.g. to this item's session. */
  onFilter: (filter: MemoryFilter) => void;
}): ReactNode {
  const { client } = useServices();
  const item = useQuery({
    queryKey: queryKeys.memoryItem(props.id),
    queryFn: () => client.call('getMemoryItem', { params: { id: props.id } }),
  });
  return (
    <div id={props.elementId} className="memory-detail" data-testid="memory-detail">
      {item.isPending ? (
        <Loading what="the item" />
      ) : item.isError ? (
        <ErrorState error={item.error} retry={() => void item.refetch()} />
      ) : (
        <>
          <h3>Value</h3>
          {item.data.value_withheld ? (
            <p className="withheld" data-testid="value-withheld">
              {item.data.value === null
                ? 'Withheld because of its label: the host shows this value to nobody.'
                : 'Partly masked: the host redacted what looks like a secret or credential.'}
            </p>
          ) : null}
          {item.data.value === null && item.data.value_withheld ? null : (
            <JsonView value={item.data.value} label={`value of ${item.data.key}`} />
          )}
          <dl className="facts">
            <dt>Run</dt>
            <dd>
              {item.data.run_id === null ? (
                'none'
              ) : (
                <Link to={`/runs/${encodeURIComponent(item.data.run_id)}`}>{item.data.run_id}</Link>
              )}
            </dd>
            <dt>Step</dt>
            <dd>{item.data.step_id ?? 'none'}</dd>
            <dt>Session</dt>
            <dd>
              {item.data.session_id === null ? (
                'none'
              ) : (
                <button
                  type="button"
                  className="link-button"
                  aria-label={`${item.data.session_id}: show only this session’s memory`}
                  onClick={() => {
                    props.onFilter({ session_id: item.data.session_id ?? undefined });
                  }}
                >
                  {item.data.session_id}
                </button>
              )}
            </dd>
            <dt>Written</dt>
            <dd>{when(item.data.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{when(item.data.updated_at)}</dd>
            <dt>Item id</dt>
            <dd>
              <code>{item.data.id}</code>
            </dd>
          </dl>
        </>
      )}
    </div>
  );
}
