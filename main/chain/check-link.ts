import type { ChainEntry, ChainVerifyResult } from '../../contracts/chain.ts';
import { hashEntry } from './chain-hash.ts';

/** Where and why a verification failed. */
export type BrokenLink = Omit<Extract<ChainVerifyResult, { ok: false }>, 'ok' | 'entries'>;

/** The link an entry must continue: the seq and hash of the one before it. */
export type ExpectedLink = { seq: number; hash: string };

/** Whether an entry comes right after `expected` and links to it. */
export function checkSequence(
  at: { seq: number; prev_hash: string },
  expected: ExpectedLink,
): BrokenLink | undefined {
  if (at.seq !== expected.seq + 1) {
    return {
      broken_at_seq: expected.seq + 1,
      reason: 'seq_gap',
      message: `expected entry ${expected.seq + 1} after ${expected.seq}, found ${at.seq}: entries were deleted or reordered`,
    };
  }
  if (at.prev_hash !== expected.hash) {
    return {
      broken_at_seq: at.seq,
      reason: 'prev_hash_mismatch',
      message: `entry ${at.seq} does not link to entry ${expected.seq}: an entry was replaced, removed or reordered`,
    };
  }
  return undefined;
}

/** Whether an entry's hash is the hash of its content. */
export function checkHash(entry: ChainEntry): BrokenLink | undefined {
  const { hash, ...unhashed } = entry;
  let recomputed: string;
  try {
    recomputed = hashEntry(unhashed);
  } catch {
    return {
      broken_at_seq: entry.seq,
      reason: 'malformed_entry',
      message: `entry ${entry.seq} cannot be canonicalised`,
    };
  }
  if (recomputed !== hash) {
    return {
      broken_at_seq: entry.seq,
      reason: 'hash_mismatch',
      message: `entry ${entry.seq} was modified after it was written`,
    };
  }
  return undefined;
}
