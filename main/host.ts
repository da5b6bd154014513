import { pino, type Logger } from 'pino';
import { CausalChain } from './chain/causal-chain.ts';
import { systemClock, type Clock } from './clock.ts';
import type { HostConfig } from './config.ts';
import type { Disposable } from './disposable.ts';
import { DEFAULT_POLICY_PACK, PolicyPacks } from './policy/policy-packs.ts';
import { RunService, type RecoveryOutcome } from './runs/run-service.ts';
import { openStore, type Store } from './store/open-store.ts';

export type HostDeps = {
  clock?: Clock;
  logger?: Logger;
};

/** Everything a started host offers; shells and tests reach services through this. */
export type StartedHost = {
  config: HostConfig;
  store: Store;
  chain: CausalChain;
  runs: RunService;
  logger: Logger;
  recovery: readonly RecoveryOutcome[];
};

export const HOST_ACTOR = 'host';

/**
 * The composition root (ARCHITECTURE.md §1): the only place that constructs services.
 * `start()` opens everything in order; `stop()` disposes it in reverse order.
 */
export class Host {
  readonly #config: HostConfig;
  readonly #deps: HostDeps;
  #started: StartedHost | undefined;
  #disposables: Disposable[] = [];

  constructor(config: HostConfig, deps: HostDeps = {}) {
    this.#config = config;
    this.#deps = deps;
  }

  get started(): StartedHost {
    if (this.#started === undefined) throw new Error('host is not started');
    return this.#started;
  }

  async start(): Promise<StartedHost> {
    if (this.#started !== undefined) return this.#started;
    const clock = this.#deps.clock ?? systemClock();
    const logger =
      this.#deps.logger ?? pino({ level: this.#config.log_level }, pino.destination(2));
    try {
      const store = await openStore({ dataDir: this.#config.data_dir });
      this.#disposables.push({ dispose: () => store.close() });
      if (store.applied.length > 0)
        logger.info({ migrations: store.applied }, 'database schema updated');

      const policies = new PolicyPacks([DEFAULT_POLICY_PACK]);
      const chain = new CausalChain({
        db: store.db,
        clock,
        policyPackVersion: DEFAULT_POLICY_PACK.version,
      });
      const runs = new RunService({ db: store.db, chain, clock, policies });

      const recovery = await runs.recoverInterrupted({ actor: HOST_ACTOR });
      for (const r of recovery) logger.warn(r, 'run interrupted by a previous stop');

      this.#started = { config: this.#config, store, chain, runs, logger, recovery };
      logger.info({ data_dir: this.#config.data_dir }, 'host started');
      return this.#started;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    const disposables = this.#disposables.reverse();
    this.#disposables = [];
    this.#started = undefined;
    for (const d of disposables) await d.dispose();
  }
}
