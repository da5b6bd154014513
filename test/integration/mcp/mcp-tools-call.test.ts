import path from 'node:path';
import {
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { MCP_TRUSTED_CLIENT } from '../../support/test-policy-packs.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import {
  approvalIdIn,
  callWaitingForApproval,
  chainEntry,
  connectAs,
  connectMcp,
  runsOf,
  textOf,
} from './mcp-helpers.ts';

/**
 * These tests are of the MCP machinery after the label and taint rules (`mcp-labels.test.ts`
 * tests those): each names a pack that trusts the client's context and shows it echo-notes'
 * unlabelled (unknown) results. Calls wait for a person at most this long.
 */
const SHOWN = MCP_TRUSTED_CLIENT;
const PATIENT = { ...SHOWN, id: 'mcp-patient', mcp_call_wait_ms: 600_000 };
/** Calls answer at once with what they wait for. */
const HASTY = { ...SHOWN, id: 'mcp-hasty', mcp_call_wait_ms: 0 };

async function approvalOf(gw: GatewayTestHost, id: string): Promise<Approval> {
  return (await gw.request('GET', `/v1/approvals/${id}`)).body as Approval;
}

async function runOf(gw: GatewayTestHost, id: string): Promise<Run> {
  return ((await gw.request('GET', `/v1/runs/${id}`)).body as { run: Run }).run;
}

describe('MCP tools/call (issue 25)', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost({ policyPacks: [SHOWN, PATIENT, HASTY] });
    const installed = await gw.request('POST', '/v1/skills', {
      json: { path: path.resolve('plugins/echo-notes') },
    });
    expect(installed.status, installed.text).toBe(201);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('runs a call in the session’s external run, with structured content, a step and chain entries; closing the session ends the run', async () => {
    const { client, transport } = await connectAs(gw, 'desk', {
      name: 'Claude Desktop',
      packs: [SHOWN.id],
    });
    const listed = await client.listTools();
    const echo = listed.tools.find((t) => t.name === 'echo-notes__echo');
    expect(echo?.outputSchema).toMatchObject({ type: 'object' });

    const result = (await client.callTool({
      name: 'echo-notes__echo',
      arguments: { text: 'hello' },
    })) as CallToolResult;
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toEqual({ text: 'hello' });
    expect(JSON.parse(textOf(result))).toEqual({ text: 'hello' });

    const [run] = await runsOf(gw, 'desk');
    expect(run).toMatchObject({ state: 'running', driver: 'external', policy_pack: SHOWN.id });
    expect(run?.goal).toContain('Claude Desktop 1.0.0');
    expect(run?.usage.steps).toBe(1);
    const steps = (await gw.request('GET', `/v1/runs/${run?.id ?? ''}/steps`)).body as {
      steps: { kind: string; outcome: string }[];
    };
    expect(steps.steps).toEqual([expect.objectContaining({ kind: 'skill', outcome: 'ok' })]);
    const executed = (await gw.chain('skill.execute')).filter((e) => e.run_id === run?.id);
    expect(executed.map((e) => e.data.outcome)).toEqual(['ok']);
    expect(executed[0]?.actor).toBe('connector:desk');

    await transport.terminateSession();
    const ended = await runOf(gw, run?.id ?? '');
    expect(ended.state).toBe('done');
    expect(ended.state_reason).toMatch(/^mcp_session_closed/);
    await client.close();
    const verified = await gw.request('GET', '/v1/chain/verify');
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('errors are isError results with the stable code, not protocol errors', async () => {
    const { client } = await connectAs(gw, 'errs', { packs: [SHOWN.id] });
    try {
      const unknown = (await client.callTool({
        name: 'nope__nothing',
        arguments: {},
      })) as CallToolResult;
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toMatch(/^NOT_FOUND: /);
      const invalid = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: { text: 1 },
      })) as CallToolResult;
      expect(invalid.isError).toBe(true);
      expect(textOf(invalid)).toMatch(/^INVALID_INPUT: /);
    } finally {
      await client.close();
    }
  });

  it('an approved call runs once the person approves in CCOS, and its other calls go on meanwhile', async () => {
    const { client } = await connectAs(gw, 'approver', { packs: [PATIENT.id] });
    try {
      const call = callWaitingForApproval(client, 'echo-notes__remember', {
        key: 'k',
        note: 'approved note',
      });
      const id = (await call.waiting).approvalId;
      // Only this call waits: the run keeps running and another call is answered.
      const other = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: { text: 'meanwhile' },
      })) as CallToolResult;
      expect(other.structuredContent).toEqual({ text: 'meanwhile' });
      const [run] = await runsOf(gw, 'approver');
      expect(run?.state).toBe('running');

      const decided = await gw.request('POST', `/v1/approvals/${id}`, {
        json: { decision: 'approve' },
      });
      expect(decided.status, decided.text).toBe(200);
      const result = await call.result;
      expect(result.isError).toBeUndefined();
      const recall = (await client.callTool({
        name: 'echo-notes__recall',
        arguments: { key: 'k' },
      })) as CallToolResult;
      expect(textOf(recall)).toContain('approved note');
    } finally {
      await client.close();
    }
  });

  it('a call that waits for a person sends notifications/progress to the client that sent a progressToken', async () => {
    const { client } = await connectAs(gw, 'progress', { packs: [PATIENT.id] });
    try {
      const call = callWaitingForApproval(client, 'echo-notes__remember', {
        key: 'p',
        note: 'after progress',
      });
      const heard = await call.waiting;
      expect(heard.progress).toBe(1);
      expect(heard.message).toMatch(
        /^waiting for approval apr_\S+: decide in CCOS .*call this tool again/,
      );
      const approval = await approvalOf(gw, heard.approvalId);
      expect(approval).toMatchObject({ state: 'pending', kind: 'operation' });
      await gw.request('POST', `/v1/approvals/${heard.approvalId}`, {
        json: { decision: 'approve' },
      });
      expect((await call.result).isError).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('a refused call is an isError result saying so, and nothing ran', async () => {
    const { client } = await connectAs(gw, 'refused', { packs: [PATIENT.id] });
    try {
      const call = callWaitingForApproval(client, 'echo-notes__remember', {
        key: 'r',
        note: 'never stored',
      });
      const id = (await call.waiting).approvalId;
      await gw.request('POST', `/v1/approvals/${id}`, {
        json: { decision: 'deny', reason: 'not today' },
      });
      const result = await call.result;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^REFUSED: .*not today/);
      const recall = (await client.callTool({
        name: 'echo-notes__recall',
        arguments: { key: 'r' },
      })) as CallToolResult;
      expect(textOf(recall)).not.toContain('never stored');
    } finally {
      await client.close();
    }
  });

  it('missing input is asked through elicitation and recorded as an inbox answer would be', async () => {
    const { client } = await connectAs(gw, 'elicit', {
      capabilities: { elicitation: {} },
      packs: [SHOWN.id],
    });
    const asked: unknown[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { text: 'from the person' } };
    });
    try {
      const result = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: {},
      })) as CallToolResult;
      expect(result.structuredContent).toEqual({ text: 'from the person' });
      expect(asked).toEqual([
        expect.objectContaining({
          requestedSchema: {
            type: 'object',
            properties: { text: { type: 'string', title: 'text' } },
            required: ['text'],
          },
        }),
      ]);
      const [run] = await runsOf(gw, 'elicit');
      const approvals = (
        await gw.request('GET', `/v1/approvals?state=approved&run_id=${run?.id ?? ''}`)
      ).body as {
        approvals: Approval[];
      };
      expect(approvals.approvals).toEqual([
        expect.objectContaining({
          kind: 'missing_input',
          state: 'approved',
          answer: { text: 'from the person' },
          decided_by: 'connector:elicit',
        }),
      ]);
    } finally {
      await client.close();
    }
  });

  it('missing input without elicitation: the call says what it waits for, and a re-issued call picks up the answer', async () => {
    const { client } = await connectAs(gw, 'hasty', { packs: [HASTY.id] });
    try {
      const first = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: {},
      })) as CallToolResult;
      expect(first.isError).toBe(true);
      expect(textOf(first)).toMatch(
        /^APPROVAL_REQUIRED: waiting for approval apr_.*decide in CCOS/,
      );
      const id = approvalIdIn(textOf(first));
      // Re-issued before anyone answered: the same approval, not a second one.
      const again = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: {},
      })) as CallToolResult;
      expect(approvalIdIn(textOf(again))).toBe(id);
      const answered = await gw.request('POST', `/v1/approvals/${id}`, {
        json: { decision: 'approve', answer: { text: 'typed in the inbox' } },
      });
      expect(answered.status, answered.text).toBe(200);
      const picked = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: {},
      })) as CallToolResult;
      expect(picked.structuredContent).toEqual({ text: 'typed in the inbox' });
      expect((await approvalOf(gw, id)).consumed_at).not.toBeNull();
    } finally {
      await client.close();
    }
  });

  it('a spent budget fails the run budget_exceeded:steps and answers isError BUDGET_EXCEEDED', async () => {
    const { client } = await connectAs(gw, 'tight', {
      packs: [SHOWN.id],
      budget_caps: { max_steps: 1 },
    });
    try {
      const first = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: { text: 'one' },
      })) as CallToolResult;
      expect(first.isError).toBeUndefined();
      const second = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: { text: 'two' },
      })) as CallToolResult;
      expect(second.isError).toBe(true);
      expect(textOf(second)).toMatch(/^BUDGET_EXCEEDED: /);
      const [run] = await runsOf(gw, 'tight');
      expect(run).toMatchObject({ state: 'failed', state_reason: 'budget_exceeded:steps' });
      const third = (await client.callTool({
        name: 'echo-notes__echo',
        arguments: { text: 'three' },
      })) as CallToolResult;
      expect(textOf(third)).toMatch(/^CONFLICT: run .* is failed/);
    } finally {
      await client.close();
    }
  });

  it('a cancelled call stops waiting and the cancellation is on the chain', async () => {
    const { client } = await connectAs(gw, 'canceller', { packs: [PATIENT.id] });
    try {
      const abort = new AbortController();
      const call = callWaitingForApproval(
        client,
        'echo-notes__remember',
        { key: 'c', note: 'cancelled' },
        { signal: abort.signal },
      );
      await call.waiting;
      abort.abort('changed my mind');
      await expect(call.result).rejects.toThrow();
      const [run] = await runsOf(gw, 'canceller');
      const entry = await chainEntry(
        gw,
        (e: ChainEntry) => e.run_id === run?.id && e.rule_id === 'mcp.call_cancelled',
      );
      expect(entry.data).toMatchObject({ decision: 'cancelled', tool: 'echo-notes__remember' });
    } finally {
      await client.close();
    }
  });

  it('a revoked token closes its session and ends the run', async () => {
    const { token, id } = await gw.connector('revoker', ['mcp']);
    const { client } = await connectMcp(gw, token);
    try {
      await client.callTool({ name: 'echo-notes__echo', arguments: { text: 'x' } });
      const [run] = await runsOf(gw, 'revoker');
      const ended = chainEntry(
        gw,
        (e) => e.run_id === run?.id && e.event_type === 'run.transition' && e.data.to === 'done',
      );
      expect((await gw.request('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
      expect((await ended).data.reason).toBe('mcp_session_closed: its token was revoked');
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  // Last: it unloads the skill every other test calls.
  it('tells an open session list_changed when a skill is unloaded', async () => {
    const { client } = await connectAs(gw, 'unload');
    try {
      await client.listTools();
      const id = 'echo-notes';
      const unloadHeard = new Promise<void>((resolve) => {
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
          resolve();
        });
      });
      expect((await gw.request('DELETE', `/v1/skills/${id}`)).status).toBe(200);
      await unloadHeard;
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names.some((n) => n.startsWith(`${id}__`))).toBe(false);
    } finally {
      await client.close();
    }
  });
});
