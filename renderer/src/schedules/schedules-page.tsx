import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, InlineError, Loading } from '../ui/states.tsx';
import { ScheduleCard } from './schedule-card.tsx';

/** Schedules: their next fires and recent outcomes; create one that starts a run. */
export function SchedulesPage(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: queryKeys.schedules,
    queryFn: () => client.call('listSchedules'),
  });
  const [goal, setGoal] = useState('');
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [zone, setZone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone);
  const create = useMutation({
    mutationFn: () =>
      client.call('createSchedule', {
        body: {
          trigger: { kind: 'cron', expression: cron.trim(), timezone: zone.trim() },
          target: { kind: 'start', template: { goal } },
        },
      }),
    onSuccess: async () => {
      setGoal('');
      await queries.invalidateQueries({ queryKey: queryKeys.schedules });
    },
  });
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section className="page" aria-labelledby="schedules-title">
      <h1 id="schedules-title">Schedules</h1>
      <form className="card" onSubmit={submit} aria-label="Create a schedule">
        <h2>New schedule</h2>
        <label>
          Goal of each run
          <input
            name="schedule_goal"
            required
            value={goal}
            onChange={(e) => {
              setGoal(e.target.value);
            }}
          />
        </label>
        <div className="form-row">
          <label>
            Cron expression
            <input
              name="cron"
              required
              value={cron}
              onChange={(e) => {
                setCron(e.target.value);
              }}
            />
          </label>
          <label>
            Time zone
            <input
              name="timezone"
              required
              value={zone}
              onChange={(e) => {
                setZone(e.target.value);
              }}
            />
          </label>
        </div>
        <button type="submit" disabled={create.isPending}>
          Create schedule
        </button>
        <InlineError error={create.error} />
      </form>
      {list.isPending ? (
        <Loading what="schedules" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.schedules.length === 0 ? (
        <Empty title="No schedules">
          Create one above to start a run on a timetable, or let an agent ask to be resumed later.
        </Empty>
      ) : (
        list.data.schedules.map((s) => <ScheduleCard key={s.id} schedule={s} />)
      )}
    </section>
  );
}
