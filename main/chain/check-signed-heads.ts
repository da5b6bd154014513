import type { KeyObject } from 'node:crypto';
import type { SignedHead } from '../../contracts/chain.ts';
import type { BrokenLink } from './check-link.ts';
import { headSignatureValid, keyIdOf } from './chain-signing-key.ts';

/**
 * Checks signed heads against a chain that verified on its own (every link and hash holds)
 * and ends at `lastSeq`: each head must carry a valid signature of `publicKey`, and the
 * entry it names must exist with the hash that was signed. A chain rewritten and re-hashed
 * from some entry on fails at the first head past that entry; a chain cut short fails at
 * the first head past its new end. `hashesAt` looks up the hashes of the given seqs.
 */
export async function checkSignedHeads(
  heads: readonly SignedHead[],
  publicKey: KeyObject,
  lastSeq: number,
  hashesAt: (seqs: readonly number[]) => Promise<ReadonlyMap<number, string>>,
): Promise<BrokenLink | undefined> {
  for (const head of heads) {
    if (!headSignatureValid(publicKey, head)) {
      return {
        broken_at_seq: head.seq,
        reason: 'bad_signature',
        message: `the head signed at ${head.signed_at} for entry ${head.seq} does not verify with key ${keyIdOf(publicKey)}: it was forged or damaged`,
      };
    }
  }
  const truncated = heads.find((h) => h.seq > lastSeq);
  if (truncated !== undefined) {
    return {
      broken_at_seq: lastSeq + 1,
      reason: 'truncated',
      message: `a head signed at ${truncated.signed_at} covers entry ${truncated.seq}, but the chain ends at entry ${lastSeq}: its newest entries were removed`,
    };
  }
  const hashes = await hashesAt([...new Set(heads.map((h) => h.seq))]);
  for (const head of heads) {
    if (hashes.get(head.seq) !== head.hash) {
      return {
        broken_at_seq: head.seq,
        reason: 'signed_head_mismatch',
        message: `entry ${head.seq} is not the one signed at ${head.signed_at}: the chain was rewritten and re-hashed`,
      };
    }
  }
  return undefined;
}
