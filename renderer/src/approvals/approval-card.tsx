import type { ReactNode } from 'react';
import type { Approval } from '../../../contracts/approvals.ts';
import { Link } from '../router.tsx';
import { age } from '../ui/format.ts';
import { JsonView } from '../ui/json-view.tsx';
import { DecisionForm } from './decision-form.tsx';

/** What an approval would cost or grant in budget terms, in words. */
function budgetImpact(approval: Approval): string {
  if (approval.kind === 'budget') return `extends the run's budget: ${approval.scope}`;
  return 'no budget change (the call itself is metered as one step)';
}

/**
 * One approval as a person judges it: what is asked, by which run and tool, with which
 * arguments (redacted by the host), what it would grant, and the decision.
 */
export function ApprovalCard(props: {
  approval: Approval;
  selected?: boolean;
  onDecided?: () => void;
}): ReactNode {
  const a = props.approval;
  const tool = typeof a.request.tool === 'string' ? a.request.tool : null;
  return (
    <article
      className={props.selected === true ? 'card approval selected' : 'card approval'}
      aria-current={props.selected === true ? 'true' : undefined}
      data-testid="approval"
      data-approval-id={a.id}
      data-kind={a.kind}
    >
      <header>
        <span className={`badge kind-${a.kind}`}>{a.kind.replace('_', ' ')}</span>{' '}
        <strong>{a.justification}</strong>
      </header>
      <dl className="facts">
        <dt>Run</dt>
        <dd>
          <Link to={`/runs/${encodeURIComponent(a.run_id)}`}>{a.run_id}</Link>
        </dd>
        {tool === null ? null : (
          <>
            <dt>Tool</dt>
            <dd>
              <code>{tool}</code>
            </dd>
          </>
        )}
        <dt>Scope</dt>
        <dd>
          <code>{a.scope}</code>
        </dd>
        <dt>Budget impact</dt>
        <dd>{budgetImpact(a)}</dd>
        <dt>Asked</dt>
        <dd>{age(a.created_at)} · no deadline (it waits until decided)</dd>
      </dl>
      {a.permission_diff.length === 0 ? null : (
        <>
          <h3>Would grant</h3>
          <ul className="diff">
            {a.permission_diff.map((d, i) => (
              <li key={`${d.permission}-${i}`}>
                <code>{d.permission}</code>: {JSON.stringify(d.from ?? null)} →{' '}
                <strong>{JSON.stringify(d.to)}</strong>
              </li>
            ))}
          </ul>
        </>
      )}
      {a.request.params === undefined ? null : (
        <details open={props.selected}>
          <summary>Arguments</summary>
          <JsonView value={a.request.params} label="arguments" />
        </details>
      )}
      {a.state === 'pending' ? (
        <DecisionForm
          approval={a}
          {...(props.onDecided === undefined ? {} : { onDecided: props.onDecided })}
        />
      ) : (
        <p>
          {a.state} by {a.decided_by ?? 'unknown'}
          {a.reason === null ? '' : `: ${a.reason}`}
        </p>
      )}
    </article>
  );
}
