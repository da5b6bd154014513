import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { ChildProcessSpawner } from '../../../main/agent/spawn/child-process-spawner.ts';
import type { Spawner } from '../../../main/agent/spawn/spawner.ts';
import { systemClock } from '../../../main/clock.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { ExternalRuns } from '../../../main/runs/external-run.ts';
import {
  ECHO,
  apiRequester,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';
import { connectMcp } from './mcp-helpers.ts';
import { notingHandOff } from '../../support/handoff-noting-worker.ts';

/** A real spawner that notes the run every worker it starts is handed. */
function spawnerNoting(runIds: string[]): Spawner {
  const real = new ChildProcessSpawner();
  return {
    isolation: real.isolation,
    start: (options) =>
      notingHandOff(real.start(options), (handoff) => {
        runIds.push(handoff.run_id);
      }),
  };
}

async function admin(started: StartedHost): Promise<ReturnType<typeof apiRequester>> {
  const token = (await readFile(started.adminTokenFile, 'utf8')).trim();
  return apiRequester(started.gateway.url, token);
}

/**
 * A worker run the supervisor must pick, start and see to its end: proof that a supervisor
 * tick went by. Resolves with its id once it is done (heard on the chain, no sleeping).
 */
async function tick(started: StartedHost): Promise<string> {
  let created: string | undefined;
  const heard: ChainEntry[] = [];
  let wake: () => void = () => undefined;
  const subscription = started.chain.subscribe((entries) => {
    heard.push(...entries);
    wake();
  });
  try {
    const res = await (await admin(started))('POST', '/v1/runs', { goal: 'Say you are done.' });
    if (res.status !== 201) throw new Error(`run: ${res.status} ${res.text}`);
    created = (res.body as Run).id;
    const ended = (): boolean =>
      heard.some(
        (e) => e.run_id === created && e.event_type === 'run.transition' && e.data.to === 'done',
      );
    while (!ended()) await new Promise<void>((resolve) => (wake = resolve));
    return created;
  } finally {
    await subscription.dispose();
  }
}

async function mcpToken(host: AutonomyHost, connectorId: string): Promise<string> {
  const res = await host.request('POST', '/v1/tokens', {
    kind: 'connector',
    label: connectorId,
    connector_id: connectorId,
    scopes: ['mcp'],
  });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${res.text}`);
  return (res.body as { token: string }).token;
}

describe('the supervisor never starts a worker for an external run (issue 25)', () => {
  let first: AutonomyHost | undefined;
  let again: Host | undefined;
  afterEach(async () => {
    await again?.stop();
    await first?.stop();
    again = undefined;
    first = undefined;
  });

  it('across supervisor ticks, even with the external run pending, and across a restart', async () => {
    const spawned: string[] = [];
    first = await startAutonomyHost({
      transcript: { on_exhausted: 'loop_last', entries: [doneEntry()] },
      spawner: spawnerNoting(spawned),
    });
    const host = first;
    const { client } = await connectMcp(host.started.gateway, await mcpToken(host, 'ide'));
    try {
      await client.callTool({ name: ECHO, arguments: { text: 'hi' } });
      const [external] = (await host.started.runs.list({ state: 'running', limit: 10 })).filter(
        (r) => r.driver === 'external',
      );
      if (external === undefined) throw new Error('the MCP session opened no external run');

      // A tick while the external run is running: the worker run is started, it is not.
      expect(spawned).toContain(await tick(host.started));
      expect(spawned).not.toContain(external.id);

      // Whatever put it back in the queue, a pending external run is still not the
      // supervisor's to start: its query and its start both check the driver.
      await host.started.runs.transition(external.id, 'pending', {
        actor: 'host',
        reason: 'queued by mistake',
      });
      expect(spawned).toContain(await tick(host.started));
      expect(spawned).not.toContain(external.id);
      expect(await host.started.runs.get(external.id)).toMatchObject({ state: 'pending' });
      await host.started.runs.transition(external.id, 'cancelled', {
        actor: 'host',
        reason: 'the test is over',
      });
    } finally {
      await client.close();
    }

    // What a host that died with a session open leaves: an external run `running`, no session.
    const left = await new ExternalRuns({
      chain: host.started.chain,
      runs: host.started.runs,
      meter: host.started.meter,
      clock: systemClock(),
    }).open(
      { goal: 'MCP session of a host that died', policy_pack: 'default', budget_caps: {} },
      { actor: 'connector:ide' },
    );
    await host.host.stop();

    const spawnedAgain: string[] = [];
    again = new Host(host.started.config, {
      logger: pino({ level: 'silent' }),
      rendererDir: null,
      spawner: spawnerNoting(spawnedAgain),
    });
    const restarted = await again.start();
    expect(await restarted.runs.get(left.run.id)).toMatchObject({
      state: 'done',
      driver: 'external',
      state_reason: 'mcp_session_closed: the host restarted',
    });
    expect(spawnedAgain).toContain(await tick(restarted));
    expect(spawnedAgain).not.toContain(left.run.id);
  });
});
