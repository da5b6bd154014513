import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, InlineError, Loading } from '../ui/states.tsx';
import { ApprovalCard } from './approval-card.tsx';
import { GrantsPanel } from './grants-panel.tsx';
import { NotificationToggle } from './notification-toggle.tsx';

/** Keys typed into a field are the field's, not shortcuts. */
function typingInField(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

/** Pending approvals, impossible to miss: j/k to move, a to approve, d to deny. */
export function ApprovalsPage(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const approvals = useQuery({
    queryKey: queryKeys.approvals,
    queryFn: () => client.call('listApprovals', { query: { state: 'pending' } }),
  });
  const list = approvals.data?.approvals ?? [];
  const [index, setIndex] = useState(0);
  const selected = list[Math.min(index, Math.max(0, list.length - 1))];
  const quick = useMutation({
    mutationFn: (d: { id: string; decision: 'approve' | 'deny' }) =>
      client.call('decideApproval', { params: { id: d.id }, body: { decision: d.decision } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: queryKeys.approvals }),
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (typingInField(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'j') setIndex((i) => Math.min(i + 1, Math.max(0, list.length - 1)));
      else if (e.key === 'k') setIndex((i) => Math.max(i - 1, 0));
      else if ((e.key === 'a' || e.key === 'd') && selected !== undefined) {
        // A form needs its fields: a/d never answer a missing_input approval blind.
        if (selected.kind === 'missing_input') return;
        quick.mutate({ id: selected.id, decision: e.key === 'a' ? 'approve' : 'deny' });
      } else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [list.length, selected, quick]);

  return (
    <section className="page" aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p className="muted">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>a</kbd> approve, <kbd>d</kbd> deny.{' '}
        <NotificationToggle />
      </p>
      <InlineError error={quick.error} />
      {approvals.isPending ? (
        <Loading what="approvals" />
      ) : approvals.isError ? (
        <ErrorState error={approvals.error} retry={() => void approvals.refetch()} />
      ) : list.length === 0 ? (
        <Empty title="Nothing waits for you">
          When an agent needs a decision (a tool call, more budget, a missing field) it appears
          here, in the navigation badge and as a desktop notification.
        </Empty>
      ) : (
        <ol className="approval-list">
          {list.map((a) => (
            <li key={a.id}>
              <ApprovalCard approval={a} selected={a.id === selected?.id} />
            </li>
          ))}
        </ol>
      )}
      <GrantsPanel />
    </section>
  );
}
