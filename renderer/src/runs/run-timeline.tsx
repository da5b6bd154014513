import type { ReactNode } from 'react';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Step } from '../../../contracts/runs.ts';
import { when } from '../ui/format.ts';
import { JsonView } from '../ui/json-view.tsx';

/** A short line for each kind of chain entry, so the timeline reads without opening each. */
function headline(entry: ChainEntry): string {
  const d = entry.data;
  const s = (k: string): string =>
    typeof d[k] === 'string' || typeof d[k] === 'number' ? String(d[k]) : '';
  const t = entry.event_type;
  if (t === 'run.transition')
    return `${s('from')} → ${s('to')}${s('reason') === '' ? '' : ` (${s('reason')})`}`;
  if (t === 'segment.started') return `segment ${s('segment')} started`;
  if (t === 'segment.ended')
    return `segment ${s('segment')} ended${s('outcome') === '' ? '' : `: ${s('outcome')}`}`;
  if (t === 'llm.call') return `LLM call${s('tokens') === '' ? '' : ` · ${s('tokens')} tokens`}`;
  if (t === 'skill.execute') return `${s('tool')} ${s('outcome')}`.trim();
  if (t === 'approval.request') return `approval asked: ${s('kind')} ${s('scope')}`.trim();
  if (t === 'approval.decision')
    return `approval ${s('decision')}${s('reason') === '' ? '' : `: ${s('reason')}`}`;
  if (t === 'run.note') return `a person sent the agent a note (${s('state')})`;
  if (t === 'run.note_delivered') return `the agent read the note in segment ${s('segment')}`;
  if (t === 'run.interrupt')
    return `a person interrupted the run${s('reason') === '' ? '' : `: ${s('reason')}`}`;
  // Every other type reads well enough by its name; its data is one click away.
  return t;
}

/**
 * The run's live timeline: every chain entry (segments, LLM calls, tool calls, checkpoints,
 * approvals, transitions) with its correlation id and data as stored (redacted), and the
 * steps' summaries (the LLM's prompt and answer, a tool's input and output).
 */
export function RunTimeline(props: {
  entries: readonly ChainEntry[];
  steps: readonly Step[];
}): ReactNode {
  const stepsById = new Map(props.steps.map((s) => [s.step_id, s]));
  return (
    <ol className="timeline" data-testid="timeline">
      {props.entries.map((entry) => {
        const step = stepsById.get(entry.step_id);
        return (
          <li
            key={entry.seq}
            className={`tl tl-${entry.event_type.replace('.', '-')}`}
            data-event-type={entry.event_type}
          >
            <details>
              <summary>
                <span className="tl-type">{entry.event_type}</span> <span>{headline(entry)}</span>{' '}
                <time className="muted" dateTime={entry.timestamp}>
                  {when(entry.timestamp)}
                </time>
              </summary>
              <dl className="facts">
                <dt>seq</dt>
                <dd>{entry.seq}</dd>
                <dt>correlation</dt>
                <dd>
                  <code>{entry.correlation_id ?? '—'}</code>
                </dd>
                <dt>actor</dt>
                <dd>{entry.actor}</dd>
              </dl>
              {step === undefined ? null : (
                <div className="step-summary">
                  <h4>
                    Step {step.kind} · {step.tokens} tokens · {step.outcome ?? 'in progress'}
                  </h4>
                  <pre className="json">{step.summary}</pre>
                </div>
              )}
              <JsonView value={entry.data} label={`data of entry ${entry.seq}`} />
            </details>
          </li>
        );
      })}
    </ol>
  );
}
