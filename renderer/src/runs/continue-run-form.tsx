import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { isTerminalState, type Run } from '../../../contracts/runs.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { navigate } from '../router.tsx';
import { InlineError } from '../ui/states.tsx';

/**
 * For a run that ended (done, or failed on its budget): go on from its last checkpoint as a
 * new run with a new budget. The original stays as it ended.
 */
export function ContinueRunForm(props: { run: Run }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [steps, setSteps] = useState(String(props.run.budget.max_steps));
  const go = useMutation({
    mutationFn: (maxSteps: number) =>
      client.call('continueRun', {
        params: { id: props.run.id },
        body: { budget: { max_steps: maxSteps }, reason: 'continued in the UI' },
      }),
    onSuccess: async (next) => {
      await queries.invalidateQueries({ queryKey: queryKeys.allRuns });
      navigate(`/runs/${encodeURIComponent(next.id)}`);
    },
  });
  if (!isTerminalState(props.run.state)) return null;
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    go.mutate(Number.parseInt(steps, 10));
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Continue this run">
      <h2>Continue from the last checkpoint</h2>
      <p className="muted">
        A new run picks up where this one stopped, with the budget you give it here.
      </p>
      <label>
        Max steps for the new run
        <input
          name="continue_max_steps"
          inputMode="numeric"
          pattern="[0-9]+"
          required
          value={steps}
          onChange={(e) => {
            setSteps(e.target.value);
          }}
        />
      </label>
      <button type="submit" disabled={go.isPending}>
        Continue as a new run
      </button>
      <InlineError error={go.error} />
    </form>
  );
}
