import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { AdapterConfig } from '../../../contracts/connector-adapter.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ConfirmAction } from '../ui/confirm-action.tsx';
import { ErrorState, InlineError, Loading } from '../ui/states.tsx';
import { ChannelConnections } from './channel-connections.tsx';
import { activationText, healthText, inboundAuthText } from './connector-facts.ts';
import { sameConfigInput } from './connector-request.ts';
import { OneTimeSecret } from './one-time-secret.tsx';
import { SelfTestResult } from './self-test-result.tsx';

/** One connector: its adapter and rules, health, channels; self-test and remove. */
export function ConnectorCard(props: { config: AdapterConfig }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const config = props.config;
  const id = config.connector_id;
  const detail = useQuery({
    queryKey: queryKeys.connector(id),
    queryFn: () => client.call('getConnectorAdapter', { params: { id } }),
  });
  // The shell's query: the same pending approvals the badge counts, fetched once.
  const approvals = useQuery({
    queryKey: queryKeys.approvals,
    queryFn: () => client.call('listApprovals', { query: { state: 'pending' } }),
  });
  const selfTest = useMutation({
    mutationFn: () => client.call('testConnectorAdapter', { params: { id } }),
  });
  const remove = useMutation({
    mutationFn: () => client.call('deleteConnectorAdapter', { params: { id } }),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: queryKeys.connectors });
    },
  });
  // The rotated secret lives here only until dismissed, like a new connector's.
  const [rotated, setRotated] = useState<string | null>(null);
  const rotate = useMutation({
    mutationFn: () =>
      client.call('putConnectorAdapter', {
        params: { id },
        query: { rotate: 'true' },
        body: sameConfigInput(config),
      }),
    onSuccess: async (result) => {
      setRotated(result.secret);
      await queries.invalidateQueries({ queryKey: queryKeys.connectors });
    },
  });
  const mode = config.inbound_auth.mode;
  const health = detail.data === undefined ? undefined : healthText(detail.data.health);
  const titleId = `connector-${id}`;
  return (
    <li className="card connector" data-testid="connector" data-connector-id={id}>
      <article aria-labelledby={titleId}>
        <header>
          <h2 id={titleId}>{id}</h2>
          <span className="badge">{config.adapter.replace('_', ' ')}</span>
        </header>
        <dl className="facts">
          <dt>Health</dt>
          <dd data-testid="connector-health">
            {health === undefined ? (
              '…'
            ) : (
              <span className={health.ok ? 'ok' : 'unsafe'}>{health.text}</span>
            )}
          </dd>
          <dt>Senders prove</dt>
          <dd>{inboundAuthText(config)}</dd>
          <dt>Secret</dt>
          <dd>
            {config.secret_name === null
              ? 'none'
              : `kept in the secret store as ${config.secret_name}; never shown again`}
          </dd>
          <dt>Run goal</dt>
          <dd>{config.template.goal}</dd>
          <dt>Wakes on</dt>
          <dd>{activationText(config.activation)}</dd>
        </dl>
        <h3>Channels</h3>
        {detail.isPending ? (
          <Loading what={`channels of ${id}`} />
        ) : detail.isError ? (
          <ErrorState error={detail.error} retry={() => void detail.refetch()} />
        ) : (
          <ChannelConnections
            connectorId={id}
            connections={detail.data.connections}
            pending={approvals.data?.approvals ?? []}
          />
        )}
        <div className="button-row">
          <button
            type="button"
            disabled={selfTest.isPending}
            onClick={() => {
              selfTest.mutate();
            }}
          >
            Self-test<span className="sr-only"> {id}</span>
          </button>
          {mode === 'person' ? null : (
            <ConfirmAction
              label="New secret"
              name={`New secret for ${id}`}
              question={`Make a new secret for ${id}? The old one stops working at once: its sender is refused until it uses the new one.`}
              confirmLabel="Make a new secret"
              pending={rotate.isPending}
              onConfirm={() => {
                rotate.mutate();
              }}
            />
          )}
          <ConfirmAction
            label="Remove"
            name={`Remove ${id}`}
            question={`Remove connector ${id}? Its inbound address refuses everything from then on and its secret is deleted; its channels and messages stay on the audit trail.`}
            confirmLabel="Remove the connector"
            pending={remove.isPending}
            onConfirm={() => {
              remove.mutate();
            }}
          />
        </div>
        {rotated === null || mode === 'person' ? null : (
          <OneTimeSecret
            connectorId={id}
            secret={rotated}
            mode={mode}
            onDismiss={() => {
              setRotated(null);
            }}
          />
        )}
        {selfTest.data === undefined ? null : <SelfTestResult result={selfTest.data} />}
        <InlineError error={selfTest.error ?? rotate.error ?? remove.error} />
      </article>
    </li>
  );
}
