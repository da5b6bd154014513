import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import { readRun } from './run-rows.ts';

/** The `SecretStore.keyedHash` purpose of stored `Idempotency-Key`s. */
export const IDEMPOTENCY_KEY_PURPOSE = 'idempotency-key';

export type IdempotencyRequest = {
  /** Who sent the key: keys are private to their sender. */
  principal: string;
  /** The key as stored: its keyed hash (`SecretStore.keyedHash`), never the key itself. */
  key: string;
  /** Hash of the canonical request body. */
  request_hash: string;
};

/**
 * Creates a run under an `Idempotency-Key` in `tx`: the same key and request from the same
 * principal return the first run (`replayed: true`) without calling `create`; the same key
 * with a different request is IDEMPOTENCY_CONFLICT. Key and run commit together.
 */
export async function createIdempotentIn(
  tx: ChainTx,
  idempotency: IdempotencyRequest,
  create: () => Promise<Run>,
): Promise<{ run: Run; replayed: boolean }> {
  const seen = await tx.db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'run_id'])
    .where('principal', '=', idempotency.principal)
    .where('key', '=', idempotency.key)
    .executeTakeFirst();
  if (seen !== undefined) {
    if (seen.request_hash !== idempotency.request_hash) {
      throw new AppError(
        'IDEMPOTENCY_CONFLICT',
        'this Idempotency-Key was already used with a different request; use a new key for a new run',
        { run_id: seen.run_id },
      );
    }
    return { run: await readRun(tx.db, seen.run_id), replayed: true };
  }
  const run = await create();
  await tx.db
    .insertInto('idempotency_keys')
    .values({ ...idempotency, run_id: run.id, created_at: run.created_at })
    .execute();
  return { run, replayed: false };
}

/**
 * Replaces keys stored in plain by an earlier version with their keyed hash (`hash`), so
 * a caller's key is on disk nowhere and still matches when the caller retries. Rows whose
 * key already starts with `hashedPrefix` are left alone. Returns how many were changed.
 */
export async function hashPlainIdempotencyKeysIn(
  tx: ChainTx,
  hash: (key: string) => string,
  hashedPrefix: string,
): Promise<number> {
  const plain = await tx.db
    .selectFrom('idempotency_keys')
    .select(['principal', 'key'])
    .where('key', 'not like', `${hashedPrefix}%`)
    .execute();
  for (const row of plain) {
    await tx.db
      .updateTable('idempotency_keys')
      .set({ key: hash(row.key) })
      .where('principal', '=', row.principal)
      .where('key', '=', row.key)
      .execute();
  }
  return plain.length;
}
