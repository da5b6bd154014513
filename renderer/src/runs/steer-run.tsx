import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { TERMINAL_STATES, type Run } from '../../../contracts/runs.ts';
import { MAX_NOTE_CHARS } from '../../../contracts/steering.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { when } from '../ui/format.ts';
import { InlineError } from '../ui/states.tsx';

const TERMINAL = new Set<string>(TERMINAL_STATES);
/** States with a next step to stop at (a paused run has none: the gateway answers 409). */
const INTERRUPTIBLE = new Set<string>(['running', 'pending']);

/**
 * Steering a live run (issue 24): a note the agent reads at its next LLM step, an interrupt
 * that pauses the run at its next step boundary, and the notes sent so far.
 */
export function SteerRun(props: { run: Run }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const id = props.run.id;
  const [text, setText] = useState('');
  const notes = useQuery({
    queryKey: queryKeys.runNotes(id),
    queryFn: () => client.call('listRunNotes', { params: { id } }),
  });
  const refresh = async (): Promise<void> => {
    await queries.invalidateQueries({ queryKey: ['run', id] });
  };
  const send = useMutation({
    mutationFn: (note: string) =>
      client.call('postRunNote', { params: { id }, body: { text: note } }),
    onSuccess: async () => {
      setText('');
      await refresh();
    },
  });
  const interrupt = useMutation({
    mutationFn: () =>
      client.call('interruptRun', { params: { id }, body: { reason: 'interrupted in the UI' } }),
    onSuccess: refresh,
  });
  const ended = TERMINAL.has(props.run.state);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    if (text.trim() !== '') send.mutate(text);
  };
  const sent = notes.data?.notes ?? [];
  return (
    <>
      {ended ? null : (
        <form className="card" onSubmit={submit} aria-label="Note to the agent">
          <h2>Note to the agent</h2>
          <p className="muted">
            The agent reads it at its next step, as your instruction. A paused run reads it when it
            resumes.
          </p>
          <label>
            Note
            <textarea
              name="run_note"
              required
              maxLength={MAX_NOTE_CHARS}
              value={text}
              onChange={(e) => {
                setText(e.target.value);
              }}
            />
          </label>
          <div className="button-row">
            <button type="submit" disabled={send.isPending || text.trim() === ''}>
              Send note
            </button>
            {INTERRUPTIBLE.has(props.run.state) ? (
              <button
                type="button"
                className="deny"
                onClick={() => {
                  interrupt.mutate();
                }}
                disabled={interrupt.isPending}
              >
                Interrupt at the next step
              </button>
            ) : null}
          </div>
          <InlineError error={send.error ?? interrupt.error} />
        </form>
      )}
      {sent.length === 0 ? null : (
        <>
          <h2>Notes to the agent</h2>
          <ul className="notes" data-testid="run-notes">
            {sent.map((n) => (
              <li key={n.id}>
                <span className="note-text">{n.text}</span>{' '}
                <span className="muted">
                  {n.created_by} · {when(n.created_at)} ·{' '}
                  {n.delivered_at === null
                    ? 'waiting for the next step'
                    : `read in segment ${String(n.delivered_segment)}`}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
