import { sql } from 'kysely';
import type { CausalChain } from '../../main/chain/causal-chain.ts';

/**
 * Counts the chain transactions that changed any row (each is an fsynced commit; one that
 * only read commits nothing to disk), through SQLite's own `total_changes()`.
 */
export function countWritingCommits(chain: CausalChain): { count: () => number } {
  const transact = chain.transact.bind(chain);
  let count = 0;
  chain.transact = (fn, options) =>
    transact(async (tx) => {
      const changes = async () =>
        (await sql<{ n: number }>`select total_changes() as n`.execute(tx.db)).rows[0]?.n ?? 0;
      const before = await changes();
      const result = await fn(tx);
      if ((await changes()) > before) count += 1;
      return result;
    }, options);
  return { count: () => count };
}
