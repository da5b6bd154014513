import type { ChainEntry } from '../../contracts/chain.ts';
import type { ApiClient } from '../gateway-client/api-client.ts';

/** What a run's workers ran under, from its `segment.started` entries (`runs show`). */
export type RunIsolation = {
  segments: number;
  /** Segments whose worker ran without the jail (`--unsafe-agents`). */
  unjailed: number;
  /** Every isolation its segments ran under, e.g. `bubblewrap`. */
  isolations: string[];
};

/** How many segments the summary reads; a run has at most a few dozen. */
const SEGMENTS_READ = 1000;

export async function runIsolation(client: ApiClient, runId: string): Promise<RunIsolation> {
  const page = await client.call('queryChain', {
    query: { run_id: runId, event_type: 'segment.started', limit: SEGMENTS_READ },
  });
  return summarise(page.entries);
}

function summarise(entries: readonly ChainEntry[]): RunIsolation {
  const isolations = new Set<string>();
  let unjailed = 0;
  for (const entry of entries) {
    const isolation = entry.data.isolation;
    isolations.add(typeof isolation === 'string' ? isolation : 'not recorded');
    if (entry.data.unsafe === true) unjailed++;
  }
  return { segments: entries.length, unjailed, isolations: [...isolations] };
}

/** The `runs show` line: a run any of whose workers ran unjailed is marked UNSAFE. */
export function isolationLine(i: RunIsolation): string {
  if (i.segments === 0) return 'no worker started yet';
  const under = i.isolations.join(', ');
  if (i.unjailed > 0) {
    return `UNSAFE: ${String(i.unjailed)} of ${String(i.segments)} segment(s) ran without a jail (${under})`;
  }
  return `${under}, ${String(i.segments)} segment(s)`;
}
