import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { DEFAULT_POLICY_PACK, PolicyPacks } from '../../../main/policy/policy-packs.ts';
import { runMemoryNamespace } from '../../../main/runs/completion-check.ts';
import {
  RUN_TIMEOUT_MS,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';

/** Each value the hoarding worker writes is ~100 KB: three fit under this cap, four do not. */
const RUN_MEMORY_BYTES = 350_000;
const TIGHT = pack('tight', {
  segment_max_steps: 2,
  segment_max_checkpoints: 5,
  checkpoints_kept: 2,
  run_memory_max_bytes: RUN_MEMORY_BYTES,
});
const FEW_PUTS = pack('few-puts', { segment_max_memory_puts: 2 });

const isRefusal = (runId: string, rule: string) => (e: ChainEntry) =>
  e.run_id === runId && e.event_type === 'policy.decision' && e.rule_id === rule;

/**
 * Issue 17 #11: `ccos/checkpoint` and `ccos/memory.put` were unmetered (each row up to
 * 256 KB, checkpoints never pruned), so a worker could fill the disk. A worker that
 * checkpoints and writes memory in a loop meets the pack's per-segment quotas and per-run
 * memory cap, each refusal audited, and only the last K checkpoints are kept.
 */
describe('storage quotas: a hoarding worker cannot fill the disk', () => {
  let host: AutonomyHost | undefined;
  let spawner: RecordingSpawner | undefined;
  afterEach(async () => {
    await host?.stop();
    await spawner?.killAll();
    host = undefined;
    spawner = undefined;
  });

  async function start(): Promise<AutonomyHost> {
    spawner = new RecordingSpawner(() => 'hoard');
    host = await startAutonomyHost({
      packs: [TIGHT, FEW_PUTS],
      spawner,
      installEchoNotes: false,
      transcript: { entries: [doneEntry()] },
    });
    return host;
  }

  it(
    'checkpoints per segment and memory bytes per run are capped, refusals audited, old checkpoints pruned',
    async () => {
      const h = await start();
      const run = await h.createRun({ goal: 'hoard', policy_pack: 'tight' });
      const refusedCheckpoint = await h.waitForEntry(isRefusal(run.id, 'quota.checkpoints'));
      expect(refusedCheckpoint.data).toMatchObject({ decision: 'refused', limit: 5, used: 5 });
      const refusedMemory = await h.waitForEntry(isRefusal(run.id, 'quota.memory_bytes'));
      expect(refusedMemory.data).toMatchObject({ decision: 'refused', limit: RUN_MEMORY_BYTES });
      const ended = await h.request('POST', `/v1/runs/${run.id}/cancel`);
      expect([200, 409]).toContain(ended.status);
      await h.settle(run.id);

      const db = h.started.store.db;
      const checkpoints = await db
        .selectFrom('checkpoints')
        .select(['id', 'segment'])
        .where('run_id', '=', run.id)
        .execute();
      expect(checkpoints.length).toBeLessThanOrEqual(2);
      const written = (await h.runChain(run.id, 'checkpoint')).filter((e) => e.data.segment === 0);
      expect(written).toHaveLength(5);

      const { rows } = await sql<{ bytes: number }>`
        select coalesce(sum(length(cast(key as blob)) + length(cast(value as blob))), 0) as bytes
        from memory where namespace = ${runMemoryNamespace(run.id)}`.execute(db);
      expect(rows[0]?.bytes).toBeGreaterThan(0);
      expect(rows[0]?.bytes).toBeLessThanOrEqual(RUN_MEMORY_BYTES);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'memory writes per segment are capped',
    async () => {
      const h = await start();
      const run = await h.createRun({ goal: 'hoard', policy_pack: 'few-puts' });
      const refused = await h.waitForEntry(isRefusal(run.id, 'quota.memory_puts'));
      expect(refused.data).toMatchObject({ decision: 'refused', limit: 2, used: 2 });
      await h.request('POST', `/v1/runs/${run.id}/cancel`);
      await h.settle(run.id);
      const writes = await h.runChain(run.id, 'memory.write');
      expect(writes.length).toBeLessThanOrEqual(
        2 * (await h.runChain(run.id, 'segment.started')).length,
      );
    },
    RUN_TIMEOUT_MS,
  );

  it('a pack whose checkpoint quota a healthy worker would meet is refused at start', () => {
    expect(
      () =>
        new PolicyPacks([
          { ...DEFAULT_POLICY_PACK, id: 'bad', segment_max_steps: 10, segment_max_checkpoints: 10 },
        ]),
    ).toThrow(/segment_max_checkpoints: must be more than segment_max_steps \(10\)/);
  });
});
