import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { isTerminalState, type Run } from '../../../contracts/runs.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { InlineError } from '../ui/states.tsx';

const RESUMABLE = new Set<string>(['paused_schedule', 'paused_external_event']);

/** Cancel a run that has not ended; resume one paused for a schedule or an event. */
export function RunActions(props: { run: Run }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const id = props.run.id;
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: queryKeys.run(id) });
  const cancel = useMutation({
    mutationFn: () =>
      client.call('cancelRun', { params: { id }, body: { reason: 'cancelled in the UI' } }),
    onSuccess: refresh,
  });
  const resume = useMutation({
    mutationFn: () =>
      client.call('resumeRun', { params: { id }, body: { reason: 'resumed in the UI' } }),
    onSuccess: refresh,
  });
  if (isTerminalState(props.run.state)) return null;
  return (
    <div className="button-row">
      <button
        type="button"
        className="deny"
        onClick={() => {
          cancel.mutate();
        }}
        disabled={cancel.isPending}
      >
        Cancel run
      </button>
      {RESUMABLE.has(props.run.state) ? (
        <button
          type="button"
          onClick={() => {
            resume.mutate();
          }}
          disabled={resume.isPending}
        >
          Resume now
        </button>
      ) : null}
      <InlineError error={cancel.error ?? resume.error} />
    </div>
  );
}
