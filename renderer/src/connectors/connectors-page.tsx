import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { AddConnector } from './add-connector.tsx';
import { ConnectorCard } from './connector-card.tsx';
import { matchesSearch } from './connector-facts.ts';

/**
 * Connectors (issue 23) for the person: each connector's adapter, health and channel
 * connections, the channels waiting for approval (decided in the approvals inbox), and adding,
 * testing and removing one. Only what the API returns: a secret is shown once, when made.
 */
export function ConnectorsPage(): ReactNode {
  const { client } = useServices();
  const list = useQuery({
    queryKey: queryKeys.connectors,
    queryFn: () => client.call('listConnectorAdapters'),
  });
  const [search, setSearch] = useState('');
  const adapters = list.data?.adapters ?? [];
  const shown = adapters.filter((a) => matchesSearch(a, search));
  return (
    <section className="page" aria-labelledby="connectors-title">
      <h1 id="connectors-title">Connectors</h1>
      <p className="muted">
        Connectors let outside systems (a webhook, the local chat) wake agents. A new channel waits
        for your approval before any of its messages reach an agent.
      </p>
      <AddConnector existing={adapters.map((a) => a.connector_id)} />
      <div className="toolbar" role="search" aria-label="Search connectors">
        <label>
          Search
          <input
            type="search"
            name="connector_search"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
            }}
          />
        </label>
      </div>
      <h2 aria-live="polite">
        {list.isSuccess
          ? `${shown.length} ${shown.length === 1 ? 'connector' : 'connectors'}${search.trim() === '' ? '' : ` matching “${search.trim()}”`}`
          : 'Connectors'}
      </h2>
      {list.isPending ? (
        <Loading what="connectors" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : adapters.length === 0 ? (
        <Empty title="No connectors yet">
          Add one above: a webhook gets a secret its sender signs with; the local chat needs none.
          Its first message on each channel then asks for your approval.
        </Empty>
      ) : shown.length === 0 ? (
        <Empty title="No connector matches">
          None of the {adapters.length} connectors has “{search.trim()}” in its id, adapter or goal.
          Clear the search to see them all.
        </Empty>
      ) : (
        <ul className="connector-list">
          {shown.map((config) => (
            <ConnectorCard key={config.connector_id} config={config} />
          ))}
        </ul>
      )}
    </section>
  );
}
