import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ErrorState, InlineError, Loading } from '../ui/states.tsx';

/** Secrets by name: set, replace, delete. A value goes to the host once and is never shown. */
export function SecretsPanel(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const secrets = useQuery({
    queryKey: queryKeys.secrets,
    queryFn: () => client.call('listSecrets'),
  });
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: queryKeys.secrets });
  const put = useMutation({
    mutationFn: (s: { name: string; value: string }) =>
      client.call('putSecret', { params: { name: s.name }, body: { value: s.value } }),
    onSuccess: async () => {
      setValue('');
      setName('');
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (n: string) => client.call('deleteSecret', { params: { name: n } }),
    onSuccess: refresh,
  });
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    put.mutate({ name: name.trim(), value });
  };
  return (
    <section className="card" aria-labelledby="secrets-title">
      <h2 id="secrets-title">Secrets</h2>
      {secrets.isPending ? (
        <Loading what="secret names" />
      ) : secrets.isError ? (
        <ErrorState error={secrets.error} />
      ) : secrets.data.names.length === 0 ? (
        <p>No secrets yet. Skills and LLM providers refer to secrets by name.</p>
      ) : (
        <ul className="secret-list">
          {secrets.data.names.map((n) => (
            <li key={n}>
              <code>{n}</code>{' '}
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setName(n);
                }}
              >
                Replace
              </button>{' '}
              <button
                type="button"
                className="link-button deny"
                onClick={() => {
                  remove.mutate(n);
                }}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} aria-label="Set a secret" autoComplete="off">
        <div className="form-row">
          <label>
            Name
            <input
              name="secret_name"
              required
              pattern="[A-Z][A-Z0-9_]{0,63}"
              placeholder="OPENAI_API_KEY"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
              }}
            />
          </label>
          <label>
            Value (never shown again)
            <input
              name="secret_value"
              type="password"
              required
              value={value}
              onChange={(e) => {
                setValue(e.target.value);
              }}
            />
          </label>
        </div>
        <button type="submit" disabled={put.isPending}>
          Store
        </button>
        <InlineError error={put.error ?? remove.error} />
      </form>
    </section>
  );
}
