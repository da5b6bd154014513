import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { OutboxAdmin } from '../outbox/outbox-admin.ts';
import { DEFAULT_OUTBOX_SETTINGS } from '../outbox/outbox-service.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { Db } from '../store/schema.ts';
import type { HostOutbox } from './build-outbox.ts';

/**
 * The outbox admin over the host's outbox (issue 23): a retried dead letter gets the default
 * pack's budget of attempts, and the dispatcher is poked so it goes at once.
 */
export function buildOutboxAdmin(parts: {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  redactor: Redactor;
  policies: PolicyPacks;
  outbox: HostOutbox;
}): OutboxAdmin {
  return new OutboxAdmin({
    db: parts.db,
    chain: parts.chain,
    clock: parts.clock,
    redactor: parts.redactor,
    retryAttempts:
      parts.policies.get(DEFAULT_POLICY_PACK.id).outbox_max_attempts ??
      DEFAULT_OUTBOX_SETTINGS.max_attempts,
    poke: () => {
      parts.outbox.dispatcher.poke();
    },
  });
}
