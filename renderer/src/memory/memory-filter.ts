import type { MemoryListQuery } from '../../../contracts/memory.ts';

/** What the Memory page narrows the list to; each field is one of the API's list filters. */
export type MemoryFilter = Pick<MemoryListQuery, 'run_id' | 'session_id' | 'namespace'>;

const FIELDS = ['run_id', 'session_id', 'namespace'] as const;

/**
 * The filter an address names (`/memory?run_id=…`), so a run's page can link to its memory and
 * a filtered view survives a reload. Blank values are dropped rather than sent as `""`, which
 * the API would refuse.
 */
export function filterFromSearch(search: string): MemoryFilter {
  const params = new URLSearchParams(search);
  const filter: MemoryFilter = {};
  for (const field of FIELDS) {
    const value = params.get(field)?.trim() ?? '';
    if (value !== '') filter[field] = value;
  }
  return filter;
}

/** The address query of a filter (`?run_id=…`), or '' for none. */
export function searchOfFilter(filter: MemoryFilter): string {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    const value = filter[field];
    if (value !== undefined) params.set(field, value);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The filter in words, for headings and empty states: `run run_… and namespace notes`. */
export function describeFilter(filter: MemoryFilter): string {
  const parts = [
    filter.run_id === undefined ? null : `run ${filter.run_id}`,
    filter.session_id === undefined ? null : `session ${filter.session_id}`,
    filter.namespace === undefined ? null : `namespace ${filter.namespace}`,
  ].filter((p) => p !== null);
  return parts.join(' and ');
}
