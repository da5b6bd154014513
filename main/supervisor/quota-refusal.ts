import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { AppError } from '../errors.ts';
import { quotaExceeded } from '../runs/segment-quotas.ts';

/** The segment quotas a worker can run into. */
export type SegmentQuota = 'checkpoints' | 'memory_puts' | 'memory_bytes';

/**
 * Records a quota refusal on the chain (committed: the caller returns the error rather
 * than throwing inside the transaction) and gives the error the worker gets.
 */
export async function refuseQuotaIn(
  tx: ChainTx,
  run: Run,
  quota: SegmentQuota,
  usage: { limit: number; used: number },
): Promise<AppError> {
  await tx.append({
    event_type: 'policy.decision',
    actor: 'host',
    session_id: run.session_id,
    run_id: run.id,
    rule_id: `quota.${quota}`,
    data: { decision: 'refused', quota, ...usage },
  });
  const what = {
    checkpoints: `this segment wrote its ${usage.limit} checkpoints`,
    memory_puts: `this segment made its ${usage.limit} memory writes`,
    memory_bytes: `the run's memory would hold ${usage.used} bytes; its quota is ${usage.limit}`,
  }[quota];
  return quotaExceeded(quota, `${what} (policy pack quota)`, usage);
}
