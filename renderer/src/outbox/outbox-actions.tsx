import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { OutboxMessage } from '../../../contracts/outbox.ts';
import { ApiError } from '../api/api-client.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { navigate } from '../router.tsx';
import { ConfirmAction } from '../ui/confirm-action.tsx';
import { InlineError } from '../ui/states.tsx';
import { actionsFor, refusalText, retryInput } from './outbox-facts.ts';

/**
 * Retry (a dead letter, with a new budget of attempts) and discard (a dead or queued message),
 * each after a confirming step. A refusal is shown by its code with what it means: the view may
 * be older than the message, which another person, the CLI or the dispatcher moved meanwhile.
 */
export function OutboxActions(props: { message: OutboxMessage }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const m = props.message;
  const [attempts, setAttempts] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: queryKeys.allOutbox });
  const retry = useMutation({
    mutationFn: (body: { attempts?: number }) =>
      client.call('retryOutboxMessage', { params: { id: m.id }, body }),
    onSettled: refresh,
  });
  const discard = useMutation({
    mutationFn: () => client.call('discardOutboxMessage', { params: { id: m.id } }),
    onSuccess: () => {
      navigate('/outbox');
    },
    onSettled: refresh,
  });
  const allowed = actionsFor(m.state);
  const error = retry.error ?? discard.error;
  const meaning = error instanceof ApiError ? refusalText(error.code) : undefined;
  const attemptsId = `retry-attempts-${m.id}`;
  return (
    <div className="outbox-actions">
      {allowed.retry ? (
        <div className="toolbar">
          <label htmlFor={attemptsId}>
            Attempts to allow
            <input
              id={attemptsId}
              inputMode="numeric"
              placeholder="the pack’s default"
              value={attempts}
              aria-describedby={problem === null ? undefined : `${attemptsId}-problem`}
              onChange={(e) => {
                setAttempts(e.target.value);
                setProblem(null);
              }}
            />
          </label>
          <ConfirmAction
            label="Retry"
            name={`Retry ${m.id}`}
            question={`Send ${m.id} again? It goes back to the queue now with the same idempotency key, so a receiver that took it before will not take it twice.`}
            confirmLabel="Retry the message"
            pending={retry.isPending}
            onConfirm={() => {
              const input = retryInput(attempts);
              if (!input.ok) {
                setProblem(input.message);
                return;
              }
              discard.reset();
              retry.mutate(input.body);
            }}
          />
        </div>
      ) : null}
      {problem === null ? null : (
        <p id={`${attemptsId}-problem`} className="inline-error" role="alert">
          {problem}
        </p>
      )}
      {allowed.discard ? (
        <div className="button-row">
          <ConfirmAction
            label="Discard"
            name={`Discard ${m.id}`}
            question={`Discard ${m.id}? It is deleted and never sent; the audit chain keeps its entries.`}
            confirmLabel="Discard the message"
            pending={discard.isPending}
            onConfirm={() => {
              retry.reset();
              discard.mutate();
            }}
          />
        </div>
      ) : m.state === 'in_flight' ? (
        <p className="muted">A host is sending it now: wait for this attempt to end.</p>
      ) : null}
      <InlineError error={error} />
      {meaning === undefined ? null : <p className="muted">{meaning}</p>}
    </div>
  );
}
