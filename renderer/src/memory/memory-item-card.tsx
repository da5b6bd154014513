import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { MemoryItem } from '../../../contracts/memory.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ConfirmAction } from '../ui/confirm-action.tsx';
import { InlineError } from '../ui/states.tsx';
import type { MemoryFilter } from './memory-filter.ts';
import { audienceText, expiryText, labelText, sourceText } from './memory-facts.ts';
import { MemoryItemDetail } from './memory-item-detail.tsx';

/** One item's governance at a glance (label, taint, source, audience, expiry), its detail, delete. */
export function MemoryItemCard(props: {
  item: MemoryItem;
  onFilter: (filter: MemoryFilter) => void;
}): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const item = props.item;
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => client.call('deleteMemoryItem', { params: { id: item.id } }),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: queryKeys.allMemory });
    },
  });
  const detailId = `memory-detail-${item.id}`;
  return (
    <li className="card memory-item" data-testid="memory-item" data-memory-id={item.id}>
      <header>
        <h2>{item.key}</h2>
        <span className={`badge taint-${item.taint}`}>{item.taint}</span>
      </header>
      <dl className="facts">
        <dt>Namespace</dt>
        <dd>{item.namespace}</dd>
        <dt>Label</dt>
        <dd>{labelText(item)}</dd>
        <dt>Source</dt>
        <dd>{sourceText(item)}</dd>
        <dt>Audience</dt>
        <dd>{audienceText(item)}</dd>
        <dt>Expires</dt>
        <dd>{expiryText(item)}</dd>
      </dl>
      <div className="button-row">
        <button
          type="button"
          aria-expanded={open}
          aria-controls={open ? detailId : undefined}
          onClick={() => {
            setOpen(!open);
          }}
        >
          {open ? 'Hide details' : 'Show details'}
          <span className="sr-only"> of {item.key}</span>
        </button>
        <ConfirmAction
          label="Delete"
          name={`Delete ${item.key}`}
          question={`Delete “${item.key}” from ${item.namespace}? The audit chain records it; the value is gone for good.`}
          confirmLabel="Delete the item"
          pending={remove.isPending}
          onConfirm={() => {
            remove.mutate();
          }}
        />
      </div>
      {open ? (
        <MemoryItemDetail id={item.id} elementId={detailId} onFilter={props.onFilter} />
      ) : null}
      <InlineError error={remove.error} />
    </li>
  );
}
