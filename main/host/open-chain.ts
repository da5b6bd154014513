import path from 'node:path';
import type { Logger } from 'pino';
import { CausalChain } from '../chain/causal-chain.ts';
import { ChainHeads } from '../chain/chain-heads.ts';
import type { Clock } from '../clock.ts';
import { CHAIN_HEADS_FILE, CHAIN_KEY_FILE, CHAIN_PUBLIC_KEY_FILE } from '../data-dir-files.ts';
import type { Disposable } from '../disposable.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import { systemWakeTimer } from '../scheduler/wake-timer.ts';
import { IdleCheckpoint } from '../store/idle-checkpoint.ts';
import type { Store } from '../store/open-store.ts';

/** How often the chain head is signed while it moves (also on stop and on export). */
const CHAIN_HEAD_INTERVAL_MS = 60_000;
/** A quiet spell this long after a commit and the WAL is checkpointed (IdleCheckpoint). */
const IDLE_CHECKPOINT_MS = 200;

export type ChainParts = {
  store: Store;
  clock: Clock;
  policies: PolicyPacks;
  redactor: Redactor;
  logger: Logger;
  dataDir: string;
};

/**
 * The causal chain, the idle WAL checkpoint its commits drive, and its signed heads (signing
 * periodically). Each disposable is handed to `track`; the heads' comes last, so it is
 * disposed late (just before the store) and the head it signs on stop covers everything.
 */
export async function openChain(
  parts: ChainParts,
  track: (disposable: Disposable) => void,
): Promise<{ chain: CausalChain; chainHeads: ChainHeads }> {
  const { store, clock, policies, redactor, logger, dataDir } = parts;
  const chain = new CausalChain({
    db: store.db,
    clock,
    policyPackVersion: policies.get(DEFAULT_POLICY_PACK.id).version,
    packVersion: (packId) => policies.versionOf(packId),
    redact: (data) => redactor.redactValue(data),
    redactText: (text) => redactor.redactString(text),
  });
  const walCheckpoints = new IdleCheckpoint({
    db: store.db,
    timer: systemWakeTimer(),
    idleMs: IDLE_CHECKPOINT_MS,
    onError: (err: unknown) => {
      logger.warn({ err }, 'idle WAL checkpoint failed');
    },
  });
  track(walCheckpoints);
  track(
    chain.subscribe(() => {
      walCheckpoints.committed();
    }),
  );
  const chainHeads = await ChainHeads.open({
    db: store.db,
    chain,
    clock,
    keyFile: path.join(dataDir, CHAIN_KEY_FILE),
    headsFile: path.join(dataDir, CHAIN_HEADS_FILE),
    publicKeyFile: path.join(dataDir, CHAIN_PUBLIC_KEY_FILE),
  });
  track(
    chainHeads.start(CHAIN_HEAD_INTERVAL_MS, (err: unknown) => {
      logger.error({ err }, 'could not sign the chain head');
    }),
  );
  return { chain, chainHeads };
}
