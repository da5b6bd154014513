import { createHash } from 'node:crypto';
import type { ChainEntry } from '../../contracts/chain.ts';
import { canonicalJson } from './canonical-json.ts';

export type UnhashedEntry = Omit<ChainEntry, 'hash'>;

/** `hash = sha256(prev_hash + canonical_json(entry without hash))`, hex. */
export function hashEntry(entry: UnhashedEntry): string {
  return createHash('sha256').update(entry.prev_hash).update(canonicalJson(entry)).digest('hex');
}
