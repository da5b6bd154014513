import type { Logger } from 'pino';
import type { AgentIsolationStatus } from '../../../contracts/agent-isolation.ts';
import { BubblewrapSpawner } from './bubblewrap-spawner.ts';
import { ChildProcessSpawner } from './child-process-spawner.ts';
import { detectJail, type DetectJailOptions } from './detect-jail.ts';
import type { Spawner } from './spawner.ts';

/** The spawner the host runs agents with, or null when it refuses to, and what to tell about it. */
export type SpawnerChoice = { spawner: Spawner | null; status: AgentIsolationStatus };

/**
 * Picks how agent workers are started (ARCHITECTURE.md §8), failing closed: the jail when
 * it works here; otherwise Node's permission model only if a person allowed running
 * without a jail (`allowUnjailed`), else no spawner at all — runs then wait in `pending`
 * and the log and `GET /v1/health` say why and how to fix it.
 */
export async function chooseSpawner(options: {
  allowUnjailed: boolean;
  detect: DetectJailOptions;
  logger: Logger;
}): Promise<SpawnerChoice> {
  const { logger } = options;
  const found = await detectJail(options.detect);
  if (found.ok) {
    logger.info(
      {
        isolation: 'bubblewrap',
        bwrap: found.tools.bwrap,
        version: found.version,
        seccomp: found.seccomp,
        run_as: found.tools.runAs,
      },
      'agent workers run jailed (bubblewrap)',
    );
    if (found.warning !== null) logger.warn({ isolation: 'bubblewrap' }, found.warning);
    const spawner = new BubblewrapSpawner({
      tools: found.tools,
      onJailFailure: (runId, message) => {
        logger.error({ run_id: runId, message }, 'an agent jail could not be finished');
      },
    });
    return {
      spawner,
      status: { status: 'jailed', isolation: 'bubblewrap', reason: null, fix: null },
    };
  }
  if (options.allowUnjailed) {
    logger.warn(
      { isolation: 'node_permission_model', reason: found.reason, fix: found.fix },
      "agent workers run WITHOUT a jail (--unsafe-agents): Node's permission model alone, which shares the host's network and signals",
    );
    return {
      spawner: new ChildProcessSpawner(),
      status: {
        status: 'unsafe',
        isolation: 'node_permission_model',
        reason: found.reason,
        fix: found.fix,
      },
    };
  }
  logger.error(
    { reason: found.reason, fix: found.fix },
    `agent workers are refused: ${found.reason}. To fix: ${found.fix}`,
  );
  return {
    spawner: null,
    status: { status: 'refused', isolation: 'none', reason: found.reason, fix: found.fix },
  };
}

/** What to tell about a spawner the host was handed (tests, embedders) instead of choosing one. */
export function givenSpawnerStatus(spawner: Spawner): AgentIsolationStatus {
  return spawner.isolation === 'bubblewrap'
    ? { status: 'jailed', isolation: 'bubblewrap', reason: null, fix: null }
    : {
        status: 'unsafe',
        isolation: spawner.isolation,
        reason: 'the host was given a spawner without the jail',
        fix: 'start the host without a spawner of its own so it can choose the jail',
      };
}
