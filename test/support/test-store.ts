import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { PolicyPack } from '../../contracts/policy.ts';
import type { CausalChain } from '../../main/chain/causal-chain.ts';
import type { Clock } from '../../main/clock.ts';
import { parseHostConfig } from '../../main/config.ts';
import { Host } from '../../main/host.ts';
import type { RunService } from '../../main/runs/run-service.ts';
import type { Store } from '../../main/store/open-store.ts';
import { testHostEnv } from './test-host-env.ts';

/** A fresh directory under the OS temp dir; remove it with `removeTempDir`. */
export function makeTempDir(prefix = 'ccos-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** A clock tests move by hand, so timestamps are known and distinct. */
export type ManualClock = Clock & { advance: (ms: number) => void; set: (iso: string) => void };

export function manualClock(startIso = '2026-01-01T00:00:00.000Z'): ManualClock {
  let t = Date.parse(startIso);
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    set: (iso) => {
      t = Date.parse(iso);
    },
  };
}

/**
 * The foundation services over a real database file with the real migrations, wired by the
 * real composition root (a `Host` with a silent logger), so tests see what ships.
 */
export type TestServices = {
  dataDir: string;
  host: Host;
  store: Store;
  chain: CausalChain;
  runs: RunService;
  /** Stops the host; also removes the data dir unless it was passed in. */
  close: () => Promise<void>;
};

export async function openTestServices(
  options: { dataDir?: string; clock?: Clock; policyPacks?: readonly PolicyPack[] } = {},
): Promise<TestServices> {
  const owned = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir());
  // Port 0: test files run in parallel, and a fixed port would make them collide.
  const config = parseHostConfig(
    {
      data_dir: dataDir,
      log_level: 'silent',
      gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
    },
    testHostEnv(),
  );
  const host = new Host(config, {
    logger: pino({ level: 'silent' }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.policyPacks === undefined ? {} : { policyPacks: options.policyPacks }),
  });
  const { store, chain, runs } = await host.start();
  return {
    dataDir,
    host,
    store,
    chain,
    runs,
    close: async () => {
      await host.stop();
      if (owned) await removeTempDir(dataDir);
    },
  };
}
