import { sql } from 'kysely';
import type { ChainTx } from '../chain/causal-chain.ts';

/**
 * Ends now the leases of rows left in flight by another owner, for a host that holds the data
 * dir's single-host lock (main/store/data-dir-lock.ts): no other host can be sending them, so
 * their owner died mid-attempt. Without this a restart waits out each lease (four webhook
 * timeouts) before retrying what the killed host was sending. The attempt's own row keeps its
 * `in_flight` outcome: whether the receiver got it is unknown, and the retry carries the same
 * `Idempotency-Key`. Returns how many leases it ended.
 */
export async function endDeadHostLeasesIn(tx: ChainTx, owner: string, now: Date): Promise<number> {
  const at = now.toISOString();
  const { rows } = await sql<{ id: string }>`
    update outbox
       set lease_expires_at = ${at}, updated_at = ${at}
     where state = 'in_flight' and lease_owner is not ${owner} and lease_expires_at > ${at}
    returning id`.execute(tx.db);
  return rows.length;
}
