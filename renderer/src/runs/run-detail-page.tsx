import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { ApprovalCard } from '../approvals/approval-card.tsx';
import { Link } from '../router.tsx';
import { BudgetMeters } from '../ui/budget-meters.tsx';
import { when } from '../ui/format.ts';
import { StateBadge } from '../ui/state-badge.tsx';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { ContinueRunForm } from './continue-run-form.tsx';
import { RunActions } from './run-actions.tsx';
import { RunTimeline } from './run-timeline.tsx';
import { SteerRun } from './steer-run.tsx';

const TIMELINE_LIMIT = 1000;

/** One run: state and why, live meters, goals, what it waits for, and its timeline. */
export function RunDetailPage(props: { runId: string }): ReactNode {
  const { client } = useServices();
  const id = props.runId;
  const detail = useQuery({
    queryKey: queryKeys.run(id),
    queryFn: () => client.call('getRun', { params: { id } }),
  });
  const steps = useQuery({
    queryKey: queryKeys.runSteps(id),
    queryFn: () => client.call('listRunSteps', { params: { id } }),
  });
  const chain = useQuery({
    queryKey: queryKeys.runChain(id),
    queryFn: () =>
      client.call('listRunChain', { params: { id }, query: { limit: TIMELINE_LIMIT } }),
  });
  if (detail.isPending) return <Loading what="the run" />;
  if (detail.isError)
    return (
      <section className="page">
        <h1>Run {id}</h1>
        <ErrorState error={detail.error} retry={() => void detail.refetch()} />
        <Link to="/runs">Back to the runs</Link>
      </section>
    );
  const { run, goals, pending_approvals: pending } = detail.data;
  return (
    <section className="page run-detail" aria-labelledby="run-title">
      <p>
        <Link to="/runs">← Runs</Link>
      </p>
      <h1 id="run-title" className="run-title">
        {run.goal}
      </h1>
      <p className="run-facts">
        <StateBadge state={run.state} />{' '}
        {run.state_reason === null ? null : <span>{run.state_reason}</span>}{' '}
        <span className="muted">
          {run.id} · pack {run.policy_pack} · created {when(run.created_at)}
          {run.parent_run_id === null ? null : (
            <>
              {' '}
              · continues{' '}
              <Link to={`/runs/${encodeURIComponent(run.parent_run_id)}`}>{run.parent_run_id}</Link>
            </>
          )}
        </span>
      </p>
      <p>
        <Link to={`/memory?run_id=${encodeURIComponent(run.id)}`}>What this run remembered</Link>
      </p>
      <RunActions run={run} />
      <SteerRun run={run} />
      <ContinueRunForm run={run} />
      <h2>Budget</h2>
      <BudgetMeters run={run} />
      {pending.length === 0 ? null : (
        <>
          <h2>Waiting for you</h2>
          {pending.map((a) => (
            <ApprovalCard key={a.id} approval={a} />
          ))}
        </>
      )}
      <h2>Goals</h2>
      <ol className="goals">
        {goals.map((g) => (
          <li key={g.ordinal}>
            <span className={`badge goal-${g.state}`}>{g.state}</span> {g.text}{' '}
            <span className="muted">
              {g.predicate === null
                ? 'done when the agent says so'
                : `done when ${JSON.stringify(g.predicate)}`}
            </span>
          </li>
        ))}
      </ol>
      <h2>Timeline</h2>
      {chain.isPending || steps.isPending ? (
        <Loading what="the timeline" />
      ) : chain.isError ? (
        <ErrorState error={chain.error} retry={() => void chain.refetch()} />
      ) : chain.data.entries.length === 0 ? (
        <Empty title="Nothing recorded yet">The timeline fills in as the run works.</Empty>
      ) : (
        <RunTimeline entries={chain.data.entries} steps={steps.data?.steps ?? []} />
      )}
    </section>
  );
}
