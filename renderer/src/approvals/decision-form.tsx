import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import type { ApprovalDecisionInput, Approval } from '../../../contracts/approvals.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { InlineError } from '../ui/states.tsx';
import { GrantForm } from './grant-form.tsx';
import { MissingInputForm } from './missing-input-form.tsx';

/**
 * The contract's three decisions on one approval, each with a reason: approve, deny, or
 * modify the scope to a narrower one. A `missing_input` approval is answered by its form.
 */
export function DecisionForm(props: { approval: Approval; onDecided?: () => void }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [reason, setReason] = useState('');
  const [scope, setScope] = useState(props.approval.scope);
  const decide = useMutation({
    mutationFn: (body: ApprovalDecisionInput) =>
      client.call('decideApproval', { params: { id: props.approval.id }, body }),
    onSuccess: async (result) => {
      await Promise.all([
        queries.invalidateQueries({ queryKey: queryKeys.approvals }),
        queries.invalidateQueries({ queryKey: queryKeys.run(result.run.id) }),
        queries.invalidateQueries({ queryKey: queryKeys.grants }),
      ]);
      props.onDecided?.();
    },
  });
  const withReason = reason.trim() === '' ? {} : { reason: reason.trim() };
  if (props.approval.kind === 'missing_input') {
    return (
      <MissingInputForm
        approval={props.approval}
        pending={decide.isPending}
        error={decide.error}
        onSubmit={(answer) => {
          decide.mutate({ decision: 'approve', answer, ...withReason });
        }}
        onDeny={() => {
          decide.mutate({ decision: 'deny', ...withReason });
        }}
      />
    );
  }
  const modify = (e: SyntheticEvent): void => {
    e.preventDefault();
    decide.mutate({ decision: 'modify', scope, ...withReason });
  };
  return (
    <form className="decision" onSubmit={modify} aria-label={`Decide ${props.approval.id}`}>
      <label>
        Reason (recorded on the chain)
        <input
          name="reason"
          value={reason}
          onChange={(e) => {
            setReason(e.target.value);
          }}
        />
      </label>
      <div className="button-row">
        <button
          type="button"
          className="approve"
          disabled={decide.isPending}
          onClick={() => {
            decide.mutate({ decision: 'approve', ...withReason });
          }}
        >
          Approve
        </button>
        <button
          type="button"
          className="deny"
          disabled={decide.isPending}
          onClick={() => {
            decide.mutate({ decision: 'deny', ...withReason });
          }}
        >
          Deny
        </button>
      </div>
      {props.approval.kind === 'operation' ? (
        <GrantForm
          approval={props.approval}
          pending={decide.isPending}
          onGrant={(grant) => {
            decide.mutate({ decision: 'approve', grant, ...withReason });
          }}
        />
      ) : null}
      <details>
        <summary>Modify the scope</summary>
        <label>
          Narrower scope
          <input
            name="scope"
            value={scope}
            onChange={(e) => {
              setScope(e.target.value);
            }}
          />
        </label>
        <button type="submit" disabled={decide.isPending || scope.trim() === ''}>
          Grant this scope instead
        </button>
      </details>
      <InlineError error={decide.error} />
    </form>
  );
}
