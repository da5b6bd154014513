import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { MemoryPurgeRequest } from '../../../contracts/memory.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ConfirmAction } from '../ui/confirm-action.tsx';
import { InlineError } from '../ui/states.tsx';
import type { MemoryFilter } from './memory-filter.ts';

type Scope = 'run_id' | 'session_id' | 'namespace';

const SCOPE_TEXT: Record<Scope, string> = {
  run_id: 'run',
  session_id: 'session',
  namespace: 'namespace',
};

/** The API's purge body: exactly one scope, as its union demands. */
function purgeRequest(scope: Scope, value: string): MemoryPurgeRequest {
  switch (scope) {
    case 'run_id':
      return { run_id: value };
    case 'session_id':
      return { session_id: value };
    case 'namespace':
      return { namespace: value };
  }
}

/** The scope a filter suggests: the one field it sets, else a run to fill in. */
function suggestedScope(filter: MemoryFilter): { scope: Scope; value: string } {
  if (filter.run_id !== undefined) return { scope: 'run_id', value: filter.run_id };
  if (filter.session_id !== undefined) return { scope: 'session_id', value: filter.session_id };
  if (filter.namespace !== undefined) return { scope: 'namespace', value: filter.namespace };
  return { scope: 'run_id', value: '' };
}

/**
 * Deletes every item of one run, session or namespace, after asking; the host records it as
 * one `memory.purged` chain entry with the scope and the count.
 */
export function PurgeMemory(props: {
  filter: MemoryFilter;
  /** How many items the list below shows for `filter`, once loaded. */
  listed: number | undefined;
}): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const suggested = suggestedScope(props.filter);
  const [scope, setScope] = useState<Scope>(suggested.scope);
  const [value, setValue] = useState(suggested.value);
  const target = value.trim();
  const purge = useMutation({
    mutationFn: (request: MemoryPurgeRequest) => client.call('purgeMemory', { body: request }),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: queryKeys.allMemory });
    },
  });
  const what = `${SCOPE_TEXT[scope]} ${target}`;
  // When the scope is exactly what the list shows, the question can say how much goes.
  const fields = Object.keys(props.filter);
  const shown =
    props.listed !== undefined && fields.length === 1 && props.filter[scope] === target
      ? ` (${props.listed} shown below)`
      : '';
  return (
    <section className="card purge" aria-labelledby="purge-title">
      <h2 id="purge-title">Purge</h2>
      <p className="muted">Delete every item of one run, session or namespace at once.</p>
      <div className="form-row">
        <label>
          Scope
          <select
            value={scope}
            onChange={(e) => {
              setScope(e.target.value as Scope);
            }}
          >
            <option value="run_id">run</option>
            <option value="session_id">session</option>
            <option value="namespace">namespace</option>
          </select>
        </label>
        <label>
          Its id or name
          <input
            name="purge_target"
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
            }}
          />
        </label>
      </div>
      {target === '' ? (
        <p className="muted">Name the {SCOPE_TEXT[scope]} to purge.</p>
      ) : (
        <ConfirmAction
          label={`Purge ${what}`}
          question={`Delete every memory item of ${what}${shown}? The audit chain records the purge; the values are gone for good.`}
          confirmLabel="Purge all its items"
          pending={purge.isPending}
          onConfirm={() => {
            purge.mutate(purgeRequest(scope, target));
          }}
        />
      )}
      {purge.data === undefined ? null : (
        <p role="status" data-testid="purge-result">
          Purged {purge.data.purged} {purge.data.purged === 1 ? 'item' : 'items'}.
        </p>
      )}
      <InlineError error={purge.error} />
    </section>
  );
}
