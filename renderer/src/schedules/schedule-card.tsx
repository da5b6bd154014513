import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { Schedule } from '../../../contracts/schedules.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Link } from '../router.tsx';
import { when } from '../ui/format.ts';
import { InlineError } from '../ui/states.tsx';

/** A trigger in words: `cron 0 9 * * 1-5 (Europe/Berlin)`, `every 15 min`, `once at …`. */
function triggerText(s: Schedule): string {
  const t = s.trigger;
  if (t.kind === 'cron') return `cron ${t.expression} (${t.timezone})`;
  if (t.kind === 'every') return `every ${Math.round(t.every_ms / 1000)} s`;
  return `once at ${when(t.at)}`;
}

/** One schedule: what it does, when it fires next, its recent fires, and its switches. */
export function ScheduleCard(props: { schedule: Schedule }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const s = props.schedule;
  const params = { params: { id: s.id } };
  const detail = useQuery({
    queryKey: queryKeys.schedule(s.id),
    queryFn: () => client.call('getSchedule', params),
  });
  const refresh = async (): Promise<void> => {
    await queries.invalidateQueries({ queryKey: queryKeys.schedules });
    await queries.invalidateQueries({ queryKey: queryKeys.schedule(s.id) });
  };
  const toggle = useMutation({
    mutationFn: () =>
      client.call(s.state === 'paused' ? 'resumeSchedule' : 'pauseSchedule', params),
    onSuccess: refresh,
  });
  const trigger = useMutation({
    mutationFn: () => client.call('triggerSchedule', params),
    onSuccess: refresh,
  });
  const target =
    s.target.kind === 'start'
      ? `starts a run: ${s.target.template.goal}`
      : `resumes run ${s.target.run_id}`;
  return (
    <article className="card schedule" data-testid="schedule" data-schedule-id={s.id}>
      <header>
        <h2>{s.note ?? triggerText(s)}</h2>
        <span className={`badge schedule-${s.state}`}>{s.state}</span>
      </header>
      <dl className="facts">
        <dt>When</dt>
        <dd>{triggerText(s)}</dd>
        <dt>Does</dt>
        <dd>{target}</dd>
        <dt>Next fire</dt>
        <dd>{s.next_due_at === null ? 'none' : when(s.next_due_at)}</dd>
        <dt>Overlap, catch-up</dt>
        <dd>
          {s.overlap}, {s.catch_up}
        </dd>
        {s.state_reason === null ? null : (
          <>
            <dt>Why</dt>
            <dd>{s.state_reason}</dd>
          </>
        )}
      </dl>
      {detail.data === undefined ? null : (
        <details>
          <summary>
            Next {detail.data.next_fires.length} and last {detail.data.recent_fires.length} fires
          </summary>
          <ul>
            {detail.data.next_fires.map((f) => (
              <li key={f.instant}>next: {when(f.due_at)}</li>
            ))}
          </ul>
          <ul data-testid="recent-fires">
            {detail.data.recent_fires.map((f) => (
              <li key={`${f.instant}-${f.claimed_at}`}>
                {when(f.instant)}: <strong>{f.outcome}</strong>
                {f.reason === null ? '' : ` (${f.reason})`}
                {f.run_id === null ? null : (
                  <>
                    {' '}
                    <Link to={`/runs/${encodeURIComponent(f.run_id)}`}>{f.run_id}</Link>
                  </>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
      <div className="button-row">
        <button
          type="button"
          onClick={() => {
            toggle.mutate();
          }}
          disabled={toggle.isPending || s.state === 'ended'}
        >
          {s.state === 'paused' ? 'Resume' : 'Pause'}
        </button>
        <button
          type="button"
          onClick={() => {
            trigger.mutate();
          }}
          disabled={trigger.isPending || s.state === 'ended'}
        >
          Trigger now
        </button>
      </div>
      <InlineError error={toggle.error ?? trigger.error ?? detail.error} />
    </article>
  );
}
