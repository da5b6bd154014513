/**
 * The cost of one durable run transition (RunService.transition: the state update and its
 * chain entry in one IMMEDIATE transaction, fsynced) against one bare SQLite insert into a
 * one-table database opened with the same dialect and the same pragmas (STORE_PRAGMAS),
 * in the same process on the same disk. Batches of the two alternate so drift in the
 * machine (other load, disk cache) falls on both alike. Target: ratio ≤ 2.0.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kysely, sql } from 'kysely';
import { STORE_PRAGMAS } from '../../main/store/open-store.ts';
import { createSqliteDialect } from '../../main/store/sqlite-dialect.ts';
import { makeTempDir, openTestServices, removeTempDir } from '../support/test-store.ts';
import { compared, mean, percentile, type BenchResult, type BenchRow } from './bench-result.ts';

const RUNS = 10;
const WARMUP = 100;
const ROUNDS = 20;
const BATCH = 50;
const TARGET_RATIO = 2;

type BaselineDb = Kysely<{ bare: { id: number; v: string } }>;

export async function run(): Promise<BenchResult> {
  const dataDir = await makeTempDir('ccos-bench-store-');
  const baselineDir = await makeTempDir('ccos-bench-bare-');
  const services = await openTestServices({ dataDir });
  const bare: BaselineDb = new Kysely({
    dialect: createSqliteDialect({
      filename: `${baselineDir}/bare.sqlite`,
      onOpen: STORE_PRAGMAS,
    }),
  });
  try {
    await sql`create table bare (id integer primary key, v text not null) strict`.execute(bare);
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      ids.push((await services.runs.create({ goal: `bench run ${i}` }, { actor: 'bench' })).id);
    }
    // pending <-> running is legal both ways, so each run can be moved forever.
    const states = new Map<string, 'pending' | 'running'>(ids.map((id) => [id, 'pending']));
    let next = 0;
    const transition = async (): Promise<void> => {
      const id = ids[next++ % ids.length] ?? '';
      const to = states.get(id) === 'pending' ? 'running' : 'pending';
      await services.runs.transition(id, to, { actor: 'bench' });
      states.set(id, to);
    };
    let row = 0;
    const insert = async (): Promise<void> => {
      await bare
        .insertInto('bare')
        .values({ id: ++row, v: `row ${row}` })
        .execute();
    };

    // A statement that writes nothing: what one statement through kysely and the driver
    // costs, without the commit. A transition makes five such statements, the insert one.
    const roundTrip = async (): Promise<void> => {
      await sql`select 1`.execute(bare);
    };

    await timeEach(transition, WARMUP);
    await timeEach(insert, WARMUP);
    await timeEach(roundTrip, WARMUP);
    const durable: number[] = [];
    const baseline: number[] = [];
    const trips: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      durable.push(...(await timeEach(transition, BATCH)));
      baseline.push(...(await timeEach(insert, BATCH)));
      trips.push(...(await timeEach(roundTrip, BATCH)));
    }
    const verified = await services.chain.verify();
    if (!verified.ok) throw new Error(`chain broken after the bench: ${verified.message}`);

    durable.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    trips.sort((a, b) => a - b);
    const rows: BenchRow[] = [
      compared('transition p50', percentile(durable, 0.5), percentile(baseline, 0.5)),
      compared('transition mean', mean(durable), mean(baseline)),
      compared('transition p95', percentile(durable, 0.95), percentile(baseline, 0.95)),
      compared('round trip p50 (select 1)', percentile(trips, 0.5), percentile(baseline, 0.5)),
      compared(
        'bare insert + 4 round trips p50',
        percentile(baseline, 0.5) + 4 * percentile(trips, 0.5),
        percentile(baseline, 0.5),
      ),
    ];
    const ratio = rows[0]?.ratio ?? Number.NaN;
    return {
      suite: 'store',
      rows,
      notes: [
        `${durable.length} transitions vs ${baseline.length} bare inserts (and ${trips.length} select-1 round trips), ${RUNS} runs, pragmas: ${STORE_PRAGMAS.join('; ')}`,
        `load average at the end: ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' / ')}`,
        `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}, data in ${os.tmpdir()}`,
        `p50 ratio ${ratio.toFixed(2)}× ${ratio <= TARGET_RATIO ? '≤' : '>'} target ${TARGET_RATIO.toFixed(1)}×`,
      ],
    };
  } finally {
    await bare.destroy();
    await services.close();
    await removeTempDir(baselineDir);
  }
}

async function timeEach(op: () => Promise<void>, times: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await op();
    samples.push(performance.now() - start);
  }
  return samples;
}
