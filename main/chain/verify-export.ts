import type { KeyObject } from 'node:crypto';
import {
  CHAIN_EXPORT_FORMAT,
  GENESIS_HASH,
  chainExportLineSchema,
  type ChainVerifyResult,
  type SignedHead,
} from '../../contracts/chain.ts';
import { AppError } from '../errors.ts';
import { checkHash, checkSequence, type BrokenLink } from './check-link.ts';
import { keyIdOf, parsePublicKey } from './chain-signing-key.ts';
import { checkSignedHeads } from './check-signed-heads.ts';
import { parseStoredJson } from './stored-json.ts';

/** What an offline verification found, and with which key. */
export type ExportVerification = ChainVerifyResult & {
  key_id: string;
  /** True when the key came from the verifier (`--public-key`), not from the export itself. */
  key_pinned: boolean;
};

/**
 * Verifies a chain export offline (`ccos chain verify --file`): every entry's link and hash,
 * every head's signature, and every head against the entry it names — so an export of a
 * database that was rewritten and re-hashed, or cut short, fails even though its hash links
 * hold. The export must end at a signed head. With `pinnedKey` the export's own key must be
 * that key; without it, the export's embedded key is used (and the result says so).
 */
export async function verifyChainExport(
  lines: AsyncIterable<string>,
  pinnedKey?: KeyObject,
): Promise<ExportVerification> {
  let key: KeyObject | undefined;
  let keyId = '';
  let expected = { seq: 0, hash: GENESIS_HASH };
  const hashes = new Map<number, string>();
  const heads: SignedHead[] = [];
  let broken: BrokenLink | undefined;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo += 1;
    if (raw.trim() === '') continue;
    let line: ReturnType<typeof chainExportLineSchema.parse>;
    try {
      line = chainExportLineSchema.parse(parseStoredJson(raw));
    } catch {
      throw new AppError(
        'INVALID_INPUT',
        `line ${lineNo} of the export is not a chain export line`,
      );
    }
    if ('format' in line) {
      if (key !== undefined) throw new AppError('INVALID_INPUT', `line ${lineNo}: a second header`);
      const embedded = parsePublicKey(line.public_key);
      if (pinnedKey !== undefined && keyIdOf(pinnedKey) !== keyIdOf(embedded)) {
        return result(expected.seq, keyIdOf(pinnedKey), true, {
          broken_at_seq: 0,
          reason: 'bad_signature',
          message: `the export was signed with key ${keyIdOf(embedded)}, not the pinned key ${keyIdOf(pinnedKey)}`,
        });
      }
      key = pinnedKey ?? embedded;
      keyId = keyIdOf(key);
      continue;
    }
    if (key === undefined)
      throw new AppError(
        'INVALID_INPUT',
        `the export does not start with a ${CHAIN_EXPORT_FORMAT} header`,
      );
    if ('entry' in line) {
      if (broken !== undefined) continue;
      broken = checkSequence(line.entry, expected) ?? checkHash(line.entry);
      if (broken === undefined) {
        expected = { seq: line.entry.seq, hash: line.entry.hash };
        hashes.set(line.entry.seq, line.entry.hash);
      }
    } else {
      heads.push(line.head);
    }
  }
  if (key === undefined) throw new AppError('INVALID_INPUT', 'the export is empty');
  const pinned = pinnedKey !== undefined;
  if (broken !== undefined) return result(expected.seq, keyId, pinned, broken);
  const headBroken = await checkSignedHeads(heads, key, expected.seq, (seqs) =>
    Promise.resolve(
      new Map(seqs.flatMap((s) => (hashes.has(s) ? [[s, hashes.get(s) ?? '']] : []))),
    ),
  );
  if (headBroken !== undefined) return result(expected.seq, keyId, pinned, headBroken);
  const last = heads.reduce((m, h) => Math.max(m, h.seq), 0);
  if (expected.seq > 0 && last !== expected.seq) {
    return result(expected.seq, keyId, pinned, {
      broken_at_seq: last + 1,
      reason: 'unsigned',
      message: `entries ${last + 1} to ${expected.seq} are covered by no signed head: the export was altered after it was made`,
    });
  }
  return {
    ok: true,
    entries: expected.seq,
    head: expected.hash,
    signed_heads: {
      count: heads.length,
      last_seq: heads.length === 0 ? null : last,
      key_id: keyId,
    },
    key_id: keyId,
    key_pinned: pinned,
  };
}

function result(
  entries: number,
  keyId: string,
  pinned: boolean,
  broken: BrokenLink,
): ExportVerification {
  return { ok: false, entries, ...broken, key_id: keyId, key_pinned: pinned };
}
