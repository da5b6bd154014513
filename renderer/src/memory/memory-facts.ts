import type { MemoryItem } from '../../../contracts/memory.ts';
import { when } from '../ui/format.ts';

/** The label in words: its atoms, or `public` for none. */
export function labelText(item: MemoryItem): string {
  return item.label.length === 0 ? 'public' : item.label.join(', ');
}

/** What wrote it: `skill echo-notes@1.0.0`, `agent run_…`. */
export function sourceText(item: MemoryItem): string {
  const { kind, id, version } = item.source;
  return `${kind} ${id}${version === null ? '' : `@${version}`}`;
}

/** Who may read it: `run run_…`, `ui_only`, `session ses_…`. */
export function audienceText(item: MemoryItem): string {
  return item.audience_id === null ? item.audience : `${item.audience} ${item.audience_id}`;
}

/** When it expires; the admin list includes expired items, so say so. */
export function expiryText(item: MemoryItem, now: number = Date.now()): string {
  if (item.expires_at === null) return 'never';
  const at = when(item.expires_at);
  return Date.parse(item.expires_at) <= now ? `expired ${at}` : at;
}
