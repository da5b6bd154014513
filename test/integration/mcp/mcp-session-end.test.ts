import { pino } from 'pino';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { Host } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { chainEntry, connectMcp, putConnector, runsOf } from './mcp-helpers.ts';

/** A session of a connector under this pack idles out after a second with no request. */
const IDLE = { ...DEFAULT_POLICY_PACK, id: 'mcp-idle', mcp_idle_timeout_ms: 1000 };

async function withEcho(gw: GatewayTestHost): Promise<void> {
  const installed = await gw.request('POST', '/v1/skills', {
    json: { path: path.resolve('plugins/echo-notes') },
  });
  expect(installed.status, installed.text).toBe(201);
}

describe('the end of an MCP session’s run (issue 25)', () => {
  let gw: GatewayTestHost | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('a session with no request for the pack’s idle timeout is closed and its run ends done', async () => {
    gw = await startGatewayHost({ policyPacks: [IDLE] });
    await withEcho(gw);
    await putConnector(gw, 'sleepy', { allowed_packs: [IDLE.id] });
    const { token } = await gw.connector('sleepy', ['mcp']);
    const { client } = await connectMcp(gw, token);
    try {
      await client.callTool({ name: 'echo-notes__echo', arguments: { text: 'once' } });
      const [run] = await runsOf(gw, 'sleepy');
      const ended = await chainEntry(
        gw,
        (e) => e.run_id === run?.id && e.event_type === 'run.transition' && e.data.to === 'done',
      );
      expect(ended.data.reason).toBe('mcp_session_closed: idle for 1000 ms');
      expect(ended.actor).toBe('host');
      // The session is gone with it: its id is unknown now.
      await expect(client.listTools()).rejects.toThrow(/404|not found/i);
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  it('after a host restart, an external run whose session is gone ends done, and no worker is started for it', async () => {
    const first = await startGatewayHost();
    await withEcho(first);
    const { token } = await first.connector('restart', ['mcp']);
    const { client } = await connectMcp(first, token);
    await client.callTool({ name: 'echo-notes__echo', arguments: { text: 'before' } });
    const [run] = await runsOf(first, 'restart');
    expect(run?.state).toBe('running');
    await client.close();
    await first.host.stop();

    const again = new Host(first.started.config, {
      logger: pino({ level: 'silent' }),
      rendererDir: null,
    });
    const started = await again.start();
    try {
      const after: Run = await started.runs.get(run?.id ?? '');
      expect(after).toMatchObject({
        state: 'done',
        driver: 'external',
        state_reason: 'mcp_session_closed: the host restarted',
      });
      const segments = await started.store.db
        .selectFrom('chain')
        .select('seq')
        .where('run_id', '=', after.id)
        .where('event_type', '=', 'segment.started')
        .execute();
      expect(segments).toEqual([]);
    } finally {
      await again.stop();
      await removeTempDir(first.dataDir);
    }
  });
});
