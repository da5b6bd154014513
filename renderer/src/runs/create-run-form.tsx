import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import type { CallInput } from '../../../contracts/api-call.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { navigate } from '../router.tsx';
import { InlineError } from '../ui/states.tsx';

type Body = NonNullable<CallInput<'createRun'>['body']>;

/** Digits only, or undefined when left empty (the pack's default applies). */
const limit = (text: string): number | undefined =>
  text.trim() === '' ? undefined : Number.parseInt(text, 10);

/**
 * Starts a run: the goal, the limits the person wants (empty ones come from the policy
 * pack), the pack, and what "done" means (a skill call that must succeed, or the agent's word).
 */
export function CreateRunForm(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [goal, setGoal] = useState('');
  const [steps, setSteps] = useState('');
  const [tokens, setTokens] = useState('');
  const [pack, setPack] = useState('');
  const [doneWhen, setDoneWhen] = useState('');
  const create = useMutation({
    mutationFn: (body: Body) => client.call('createRun', { body }),
    onSuccess: async (run) => {
      await queries.invalidateQueries({ queryKey: queryKeys.allRuns });
      setGoal('');
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    },
  });
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    const maxSteps = limit(steps);
    const maxTokens = limit(tokens);
    create.mutate({
      goal,
      ...(maxSteps === undefined && maxTokens === undefined
        ? {}
        : {
            budget: {
              ...(maxSteps === undefined ? {} : { max_steps: maxSteps }),
              ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
            },
          }),
      ...(pack.trim() === '' ? {} : { policy_pack: pack.trim() }),
      ...(doneWhen.trim() === ''
        ? {}
        : { completion: { kind: 'capability_succeeded', capability_id: doneWhen.trim() } }),
    });
  };
  return (
    <form className="card create-run" onSubmit={submit} aria-label="Create a run">
      <h2>New run</h2>
      <label>
        Goal
        <textarea
          name="goal"
          required
          rows={2}
          value={goal}
          onChange={(e) => {
            setGoal(e.target.value);
          }}
          placeholder="Summarise the open issues of my project"
        />
      </label>
      <div className="form-row">
        <label>
          Max steps
          <input
            name="max_steps"
            inputMode="numeric"
            pattern="[0-9]*"
            placeholder="from the pack"
            value={steps}
            onChange={(e) => {
              setSteps(e.target.value);
            }}
          />
        </label>
        <label>
          Max tokens
          <input
            name="max_tokens"
            inputMode="numeric"
            pattern="[0-9]*"
            placeholder="from the pack"
            value={tokens}
            onChange={(e) => {
              setTokens(e.target.value);
            }}
          />
        </label>
        <label>
          Policy pack
          <input
            name="policy_pack"
            placeholder="default"
            value={pack}
            onChange={(e) => {
              setPack(e.target.value);
            }}
          />
        </label>
        <label>
          Done when this tool succeeds
          <input
            name="completion"
            placeholder="e.g. echo-notes__save (optional)"
            value={doneWhen}
            onChange={(e) => {
              setDoneWhen(e.target.value);
            }}
          />
        </label>
      </div>
      <button type="submit" disabled={create.isPending}>
        {create.isPending ? 'Starting…' : 'Start run'}
      </button>
      <InlineError error={create.error} />
    </form>
  );
}
