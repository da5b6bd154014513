import { createHash } from 'node:crypto';
import type { PolicyPack } from '../../contracts/policy.ts';
import { canonicalJson } from '../chain/canonical-json.ts';

/** Hex digits of the content hash kept in a stamped version: short to read, long to collide. */
const HASH_DIGITS = 16;

/**
 * The version stamped on runs and chain entries: the author's label and a hash of the pack's
 * whole content (canonical JSON, so key order and YAML formatting do not count). An edited file
 * is a new version even when its author forgot to change the label.
 */
export function stampedVersionOf(pack: PolicyPack): string {
  // The label is left out of the hash: it is already written in front of it.
  const hash = createHash('sha256')
    .update(canonicalJson({ ...pack, version: '' }))
    .digest('hex');
  return `${pack.version}+${hash.slice(0, HASH_DIGITS)}`;
}
