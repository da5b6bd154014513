import { pino } from 'pino';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { systemClock } from '../../../main/clock.ts';
import { Host } from '../../../main/host.ts';
import { ExternalRuns } from '../../../main/runs/external-run.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import {
  callWaitingForApproval,
  chainEntry,
  crashImage,
  connectMcp,
  putConnector,
  runsOf,
  textOf,
} from './mcp-helpers.ts';

/** A session of a connector under this pack idles out after a second with no request. */
const IDLE = { ...DEFAULT_POLICY_PACK, id: 'mcp-idle', mcp_idle_timeout_ms: 1000 };
/** Calls wait for a person far longer than any test: only the stop can end the wait. */
const PATIENT = { ...DEFAULT_POLICY_PACK, id: 'mcp-patient', mcp_call_wait_ms: 600_000 };

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

  it('a host stop ends its MCP sessions: a call waiting for a person is answered RUN_ENDED, and the run ends done', async () => {
    const first = await startGatewayHost({ policyPacks: [PATIENT] });
    await withEcho(first);
    await putConnector(first, 'stopped', { allowed_packs: [PATIENT.id] });
    const { token } = await first.connector('stopped', ['mcp']);
    const { client } = await connectMcp(first, token);
    const call = callWaitingForApproval(client, 'echo-notes__remember', {
      key: 'k',
      note: 'never stored',
    });
    await call.waiting;
    const [run] = await runsOf(first, 'stopped');
    const chain = first.started.chain;
    const heard: ChainEntry[] = [];
    const subscription = chain.subscribe((entries) => heard.push(...entries));
    await first.host.stop();
    await subscription.dispose();
    // The client is answered, not left waiting on a host that is gone.
    const answer = await call.result;
    expect(answer.isError).toBe(true);
    expect(textOf(answer)).toMatch(/^RUN_ENDED: the MCP session ended \(the host stopped\)/);
    await client.close().catch(() => undefined);

    const ofRun = heard.filter((e) => e.run_id === run?.id);
    expect(ofRun.map((e) => e.rule_id ?? e.event_type)).toEqual([
      'mcp.call_session_ended',
      'run.transition',
      // The run's end expires what it waited for: no one approves a call that is gone.
      'approval.decision',
    ]);
    expect(ofRun[0]?.data).toMatchObject({ decision: 'ended', reason: 'the host stopped' });
    expect(ofRun[1]).toMatchObject({
      actor: 'host',
      data: { to: 'done', reason: 'mcp_session_closed: the host stopped' },
    });
    expect(ofRun[2]?.data).toMatchObject({ decision: 'expire', state: 'expired' });

    // The next start finds it ended: recovery had nothing left to do for it.
    const again = new Host(first.started.config, {
      logger: pino({ level: 'silent' }),
      rendererDir: null,
    });
    const started = await again.start();
    try {
      expect(await started.runs.get(run?.id ?? '')).toMatchObject({
        state: 'done',
        state_reason: 'mcp_session_closed: the host stopped',
      });
    } finally {
      await again.stop();
      await removeTempDir(first.dataDir);
    }
  });

  it('the next start after a crash ends every external run left unfinished, paused or pending, and expires its approvals', async () => {
    gw = await startGatewayHost({ policyPacks: [PATIENT] });
    await withEcho(gw);
    await putConnector(gw, 'crashed', { allowed_packs: [PATIENT.id] });
    const { token } = await gw.connector('crashed', ['mcp']);
    const { client } = await connectMcp(gw, token);
    const call = callWaitingForApproval(client, 'echo-notes__remember', {
      key: 'k',
      note: 'never stored',
    });
    const { approvalId } = await call.waiting;
    const [paused] = await runsOf(gw, 'crashed');
    if (paused === undefined) throw new Error('the MCP session opened no external run');
    // Rows a crash can leave: the session's run paused on its call's approval, and another
    // session's run back in `pending` (whatever put them there, no session can drive them now).
    await gw.started.runs.transition(paused.id, 'paused_approval', {
      actor: 'host',
      reason: `waiting for approval ${approvalId}`,
    });
    const queued = await new ExternalRuns({
      chain: gw.started.chain,
      runs: gw.started.runs,
      meter: gw.started.meter,
      clock: systemClock(),
    }).open(
      { goal: 'MCP session of a host that died', policy_pack: PATIENT.id, budget_caps: {} },
      { actor: 'connector:crashed' },
    );
    await gw.started.runs.transition(queued.run.id, 'pending', {
      actor: 'host',
      reason: 'queued by mistake',
    });
    const crashed = await crashImage(gw);
    // The crashed host's client is cut off, its call with it.
    await client.close().catch(() => undefined);
    await call.result.catch(() => undefined);

    const again = new Host(
      { ...gw.started.config, data_dir: crashed },
      { logger: pino({ level: 'silent' }), rendererDir: null, policyPacks: [PATIENT] },
    );
    const started = await again.start();
    try {
      for (const id of [paused.id, queued.run.id]) {
        expect(await started.runs.get(id)).toMatchObject({
          state: 'done',
          driver: 'external',
          state_reason: 'mcp_session_closed: the host restarted',
        });
      }
      expect(await started.approvals.get(approvalId)).toMatchObject({
        state: 'expired',
        decided_by: 'host',
      });
    } finally {
      await again.stop();
      await removeTempDir(crashed);
    }
  });
});
