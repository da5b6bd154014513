import { useMutation } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { InlineError } from '../ui/states.tsx';

/** Re-hashes the whole chain on the host and names the first broken link. */
export function VerifyChain(): ReactNode {
  const { client } = useServices();
  const verify = useMutation({ mutationFn: () => client.call('verifyChain') });
  const result = verify.data;
  return (
    <div className="card verify">
      <button
        type="button"
        onClick={() => {
          verify.mutate();
        }}
        disabled={verify.isPending}
      >
        {verify.isPending ? 'Verifying…' : 'Verify the chain'}
      </button>
      <div aria-live="polite" data-testid="verify-result">
        {result === undefined ? null : result.ok ? (
          <p className="ok">
            Intact: {result.entries} entries, head <code>{result.head.slice(0, 16)}…</code>
          </p>
        ) : (
          <p className="broken" role="alert">
            Broken at entry <strong>#{result.broken_at_seq}</strong> ({result.reason}):{' '}
            {result.message}. The {result.entries} entries before it are intact.
          </p>
        )}
      </div>
      <InlineError error={verify.error} />
    </div>
  );
}
