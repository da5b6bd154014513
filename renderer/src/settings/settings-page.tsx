import { useMutation, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ErrorState, InlineError, Loading } from '../ui/states.tsx';
import { SecretsPanel } from './secrets-panel.tsx';

/** The host as configured: LLM provider (and a test of it), packs, data dir, agent isolation. */
export function SettingsPage(): ReactNode {
  const { client } = useServices();
  const info = useQuery({ queryKey: queryKeys.health, queryFn: () => client.call('getHostInfo') });
  const test = useMutation({ mutationFn: () => client.call('testLlmConnection') });
  return (
    <section className="page" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {info.isPending ? (
        <Loading what="the host's settings" />
      ) : info.isError ? (
        <ErrorState error={info.error} retry={() => void info.refetch()} />
      ) : (
        <section className="card" aria-labelledby="host-title">
          <h2 id="host-title">Host</h2>
          <dl className="facts">
            <dt>Version</dt>
            <dd>{info.data.version}</dd>
            <dt>Data directory</dt>
            <dd>
              <code>{info.data.data_dir}</code>
            </dd>
            <dt>LLM provider</dt>
            <dd>
              {info.data.llm === null
                ? 'none: runs wait in pending (start the host with --llm-settings)'
                : `${info.data.llm.kind}${info.data.llm.model === null ? '' : ` · ${info.data.llm.model}`}`}
            </dd>
            <dt>Policy packs</dt>
            <dd>{info.data.policy_packs.join(', ')}</dd>
            <dt>Agent isolation</dt>
            <dd className={info.data.isolation.safe ? 'ok' : 'unsafe'} data-testid="isolation">
              {info.data.isolation.label}
            </dd>
          </dl>
          <button
            type="button"
            onClick={() => {
              test.mutate();
            }}
            disabled={test.isPending || info.data.llm === null}
          >
            {test.isPending ? 'Testing…' : 'Test the LLM connection'}
          </button>
          <div aria-live="polite" data-testid="llm-test">
            {test.data === undefined ? null : test.data.ok ? (
              <p className="ok">{test.data.message}</p>
            ) : (
              <p className="broken">
                {test.data.message} <code>{test.data.code}</code>
              </p>
            )}
          </div>
          <InlineError error={test.error} />
        </section>
      )}
      <SecretsPanel />
    </section>
  );
}
