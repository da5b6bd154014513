import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { when } from '../ui/format.ts';
import { ErrorState, InlineError, Loading } from '../ui/states.tsx';

/** The active standing grants, each with what it covers and a revoke button that acts at once. */
export function GrantsPanel(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const grants = useQuery({
    queryKey: queryKeys.grants,
    queryFn: () => client.call('listGrants', { query: { state: 'active' } }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => client.call('revokeGrant', { params: { id } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: queryKeys.grants }),
  });
  const list = grants.data?.grants ?? [];
  return (
    <section aria-labelledby="grants-title">
      <h2 id="grants-title">Standing grants</h2>
      <InlineError error={revoke.error} />
      {grants.isPending ? (
        <Loading what="grants" />
      ) : grants.isError ? (
        <ErrorState error={grants.error} retry={() => void grants.refetch()} />
      ) : list.length === 0 ? (
        <p className="muted">
          None. Approve an operation “as a standing grant” to let its later calls through without
          asking.
        </p>
      ) : (
        <ul className="grant-list">
          {list.map((g) => (
            <li key={g.id} data-testid="grant" data-grant-id={g.id}>
              <code>{g.tool}</code> {g.skill_version} ·{' '}
              {g.scope === 'run' ? `run ${g.run_id}` : `schedule ${g.schedule_id ?? '?'}`} ·{' '}
              {g.max_uses === null ? `${g.uses} uses` : `${g.uses}/${g.max_uses} uses`} · until{' '}
              {when(g.expires_at)}{' '}
              <button
                type="button"
                className="deny"
                disabled={revoke.isPending}
                onClick={() => {
                  revoke.mutate(g.id);
                }}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
