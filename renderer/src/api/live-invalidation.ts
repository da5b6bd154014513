import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { CallOutput } from '../../../contracts/api-call.ts';
import type { StreamEvent } from '../../../contracts/api.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { UiApiClient } from './api-client.ts';
import type { LiveEvents } from './live-events.ts';
import { queryKeys } from './query-keys.ts';

type RunPages = InfiniteData<CallOutput<'listRuns'>>;

/** Coalesces a burst of events of one run into one refetch of it. */
const PATCH_DELAY_MS = 150;

/**
 * Keeps the server state fresh from the event stream (STYLE.md §15: one query layer,
 * invalidated by SSE). A run's event refetches that run alone and patches it into every
 * loaded page of the list, so 10,000 listed runs do not mean 10,000 rows refetched per step.
 */
export function followLiveEvents(
  live: LiveEvents,
  queries: QueryClient,
  client: UiApiClient,
): () => void {
  const due = new Map<string, ReturnType<typeof setTimeout>>();
  const patchRun = (runId: string): void => {
    if (due.has(runId)) return;
    due.set(
      runId,
      setTimeout(() => {
        due.delete(runId);
        void client
          .call('getRun', { params: { id: runId } })
          .then((detail) => {
            queries.setQueryData(queryKeys.run(runId), detail);
            patchListedRun(queries, detail.run);
          })
          .catch(() => undefined);
        void queries.invalidateQueries({ queryKey: queryKeys.runSteps(runId) });
        void queries.invalidateQueries({ queryKey: queryKeys.runChain(runId) });
        void queries.invalidateQueries({ queryKey: queryKeys.runNotes(runId) });
      }, PATCH_DELAY_MS),
    );
  };
  const unsubscribe = live.subscribe((event: StreamEvent) => {
    const type = event.event_type;
    if (type === 'run.created') void queries.invalidateQueries({ queryKey: queryKeys.allRuns });
    if (type.startsWith('approval.'))
      void queries.invalidateQueries({ queryKey: queryKeys.approvals });
    if (type.startsWith('grant.')) void queries.invalidateQueries({ queryKey: queryKeys.grants });
    if (type.startsWith('skill.')) void queries.invalidateQueries({ queryKey: queryKeys.skills });
    if (type.startsWith('schedule.'))
      void queries.invalidateQueries({ queryKey: queryKeys.schedules });
    // Reads leave memory as it was; a write, delete or purge (from any client) changes it.
    if (type === 'memory.write' || type === 'memory.deleted' || type === 'memory.purged')
      void queries.invalidateQueries({ queryKey: queryKeys.allMemory });
    // --- ui-connectors (issue 24) ---
    // A channel approval asked or decided changes a connection's state as well.
    if (
      type.startsWith('connector.') ||
      type === 'connection.decided' ||
      type.startsWith('approval.')
    )
      void queries.invalidateQueries({ queryKey: queryKeys.connectors });
    // --- ui-outbox (issue 24) ---
    // A message queued, retried or discarded, and each attempt's end (delivered, retried later,
    // dead): the list, the open message and the dead-letter count all follow.
    if (type === 'outbox.queued' || type === 'outbox.admin' || type === 'outbound.attempt')
      void queries.invalidateQueries({ queryKey: queryKeys.allOutbox });
    // --- ui-chat (issue 24) ---
    // A channel decided changes its messages' states; a reply (its frame) means the agent has
    // read the message, so the history's "read through summarize" is due too.
    if (
      type === 'connection.decided' ||
      type === 'approval.decision' ||
      type === 'message.outbound'
    )
      void queries.invalidateQueries({ queryKey: queryKeys.allChat });
    void queries.invalidateQueries({ queryKey: queryKeys.allChain });
    if (event.run_id !== null) patchRun(event.run_id);
  });
  return () => {
    unsubscribe();
    for (const timer of due.values()) clearTimeout(timer);
  };
}

function patchListedRun(queries: QueryClient, run: Run): void {
  queries.setQueriesData<RunPages>({ queryKey: queryKeys.allRuns }, (data) => {
    if (data === undefined) return data;
    return {
      ...data,
      pages: data.pages.map((page) => ({
        ...page,
        runs: page.runs.map((r) => (r.id === run.id ? run : r)),
      })),
    };
  });
}
