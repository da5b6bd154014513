import path from 'node:path';
import type { Logger } from 'pino';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { QUARANTINE_KEY_FILE } from '../data-dir-files.ts';
import type { Disposable } from '../disposable.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { QuarantineKey } from '../quarantine/quarantine-key.ts';
import { QuarantineStore } from '../quarantine/quarantine-store.ts';
import { startQuarantineSweep } from '../quarantine/quarantine-sweep.ts';
import type { Db } from '../store/schema.ts';

export type QuarantineParts = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  policies: PolicyPacks;
  logger: Logger;
  dataDir: string;
};

/**
 * The quarantine under its key (made on first start), with its expiry sweep running; the
 * sweep is handed to `track`. The key also seals transform outputs (`key.sealKey`).
 */
export async function openQuarantine(
  parts: QuarantineParts,
  track: (disposable: Disposable) => void,
): Promise<{ quarantine: QuarantineStore; key: QuarantineKey }> {
  const key = await QuarantineKey.open({
    db: parts.db,
    keyFile: path.join(parts.dataDir, QUARANTINE_KEY_FILE),
  });
  const quarantine = new QuarantineStore({
    db: parts.db,
    chain: parts.chain,
    clock: parts.clock,
    policies: parts.policies,
    key,
  });
  track(startQuarantineSweep(quarantine, parts.logger));
  return { quarantine, key };
}
