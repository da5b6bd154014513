import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CausalChain } from '../../../main/chain/causal-chain.ts';
import { IdleCheckpoint, type CheckpointResult } from '../../../main/store/idle-checkpoint.ts';
import { openStore, type Store } from '../../../main/store/open-store.ts';
import { manualWakeTimer, type ManualWakeTimer } from '../../support/manual-wake-timer.ts';
import { makeTempDir, manualClock, removeTempDir } from '../../support/test-store.ts';

/** Frames in the WAL now and how many are in the database (a checkpoint of its own). */
async function walFrames(store: Store): Promise<{ log: number; checkpointed: number }> {
  const { rows } = await sql<{
    log: number;
    checkpointed: number;
  }>`pragma wal_checkpoint(passive)`.execute(store.db);
  return rows[0] ?? { log: -1, checkpointed: -1 };
}

describe('IdleCheckpoint on a real store', () => {
  let dataDir: string;
  let store: Store;
  let chain: CausalChain;
  let timer: ManualWakeTimer;
  let results: CheckpointResult[];
  let checkpoints: IdleCheckpoint;
  let next: Promise<CheckpointResult>;
  let heard: (r: CheckpointResult) => void;
  /** The checkpoint's monotonic time (ms), moved by hand. */
  let nowMs: number;

  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-checkpoint-');
    store = await openStore({ dataDir });
    chain = new CausalChain({ db: store.db, clock: manualClock(), policyPackVersion: 'pp-test' });
    timer = manualWakeTimer();
    nowMs = 0;
    results = [];
    const arm = (): void => {
      next = new Promise((resolve) => (heard = resolve));
    };
    arm();
    checkpoints = new IdleCheckpoint({
      db: store.db,
      timer,
      idleMs: 200,
      now: () => nowMs,
      onCheckpoint: (r) => {
        results.push(r);
        heard(r);
        arm();
      },
      onError: (e) => {
        throw e;
      },
    });
    chain.subscribe(() => {
      checkpoints.committed();
    });
  });
  afterEach(async () => {
    await checkpoints.dispose();
    await store.close();
    await removeTempDir(dataDir);
  });

  const commit = (n: number) =>
    chain.transact(async (tx) => {
      for (let i = 0; i < n; i++)
        await tx.append({
          event_type: 'auth.denied',
          actor: 't',
          data: { i, pad: 'x'.repeat(500) },
        });
    });

  it('waits for a quiet spell: every commit starts the wait over, none checkpoints by itself', async () => {
    await commit(5);
    await commit(5);
    await commit(5);
    expect(timer.armed).toBe(200);
    expect(results).toEqual([]);
  });

  it('arms its timer once for a burst of commits, not once per commit', async () => {
    await commit(1);
    const armed = timer.arms;
    for (let i = 0; i < 20; i++) {
      nowMs += 10;
      await commit(1);
    }
    expect(timer.arms).toBe(armed);
  });

  it('on expiry after a later commit, waits out the rest of the quiet spell before checkpointing', async () => {
    await commit(5);
    nowMs = 150;
    await commit(5);
    nowMs = 200;
    // 50 ms quiet of the 200: the timer is set again for the 150 left, and nothing is copied.
    expect(timer.fire()).toBe(true);
    expect(timer.armed).toBe(150);
    expect(results).toEqual([]);
    nowMs = 350;
    expect(timer.fire()).toBe(true);
    const result = await next;
    expect(result.checkpointed).toBe(result.log);
    expect(timer.armed).toBeUndefined();
  });

  it('copies every frame of the WAL once idle, so the next commit starts the WAL over', async () => {
    for (let i = 0; i < 10; i++) await commit(20);
    nowMs = 200;
    expect(timer.fire()).toBe(true);
    const result = await next;
    expect(result.busy).toBe(false);
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    // Fully copied: the next transaction writes from the WAL's start, not after its frames.
    await commit(1);
    expect((await walFrames(store)).log).toBeLessThan(result.log);
  });

  it('arms nothing once disposed, so the store can close after it', async () => {
    await checkpoints.dispose();
    await commit(1);
    expect(timer.armed).toBeUndefined();
    expect(results).toEqual([]);
  });
});
