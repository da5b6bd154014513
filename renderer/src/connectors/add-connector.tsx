import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { AdapterConfigInput } from '../../../contracts/connector-adapter.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ConnectorForm } from './connector-form.tsx';
import { OneTimeSecret } from './one-time-secret.tsx';

type Made = { connectorId: string; secret: string | null; mode: 'hmac' | 'bearer' | 'person' };

/** "Add a connector": the form, then the new secret shown once (the local chat has none). */
export function AddConnector(props: { existing: readonly string[] }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const [made, setMade] = useState<Made | null>(null);
  const add = useMutation({
    mutationFn: (request: { id: string; body: AdapterConfigInput }) =>
      client.call('putConnectorAdapter', {
        params: { id: request.id },
        query: {},
        body: request.body,
      }),
    onSuccess: async (result) => {
      setOpen(false);
      setMade({
        connectorId: result.config.connector_id,
        secret: result.secret,
        mode: result.config.inbound_auth.mode,
      });
      await queries.invalidateQueries({ queryKey: queryKeys.connectors });
    },
  });
  return (
    <section aria-label="Add a connector">
      {made === null ? null : made.secret !== null && made.mode !== 'person' ? (
        <OneTimeSecret
          connectorId={made.connectorId}
          secret={made.secret}
          mode={made.mode}
          onDismiss={() => {
            setMade(null);
          }}
        />
      ) : (
        <p role="status">Connector {made.connectorId} added; it needs no secret.</p>
      )}
      {open ? (
        <ConnectorForm
          existing={props.existing}
          pending={add.isPending}
          error={add.error}
          onSubmit={(request) => {
            setMade(null);
            add.mutate(request);
          }}
          onCancel={() => {
            setOpen(false);
          }}
        />
      ) : (
        <button
          type="button"
          onClick={() => {
            add.reset();
            setOpen(true);
          }}
        >
          Add a connector
        </button>
      )}
    </section>
  );
}
