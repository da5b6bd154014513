import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../../contracts/grants.ts';
import { MCP_TRUSTED_CLIENT } from '../../support/test-policy-packs.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { approvalIdIn, connectAs, textOf } from './mcp-helpers.ts';

/**
 * Calls that need a person answer at once with the approval they wait for. The client's
 * context is trusted, explicitly: a call from an untrusted one is taint-gated, and such a call
 * is never a standing grant under the default pack (`mcp-labels.test.ts`).
 */
const HASTY = { ...MCP_TRUSTED_CLIENT, id: 'mcp-hasty-grants', mcp_call_wait_ms: 0 };
const REMEMBER = 'echo-notes__remember';

/**
 * Issue 22 over MCP: an external client's run under the default pack (memory writes ask).
 * A grant of N uses answers at most N of many calls the client sends at once.
 */
describe('standing grants over MCP', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost({ policyPacks: [HASTY] });
    const installed = await gw.request('POST', '/v1/skills', {
      json: { path: path.resolve('plugins/echo-notes') },
    });
    expect(installed.status, installed.text).toBe(201);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('a grant of 3 uses lets exactly 3 of 10 concurrent tools/call through; the rest wait for a person', async () => {
    const { client } = await connectAs(gw, 'heartbeat', { packs: [HASTY.id] });
    try {
      const call = (key: string) =>
        client.callTool({
          name: REMEMBER,
          arguments: { key, note: `beat ${key}` },
        }) as Promise<CallToolResult>;
      const first = await call('k0');
      expect(textOf(first)).toMatch(/^APPROVAL_REQUIRED: waiting for approval apr_/);
      const decided = await gw.request('POST', `/v1/approvals/${approvalIdIn(textOf(first))}`, {
        json: { decision: 'approve', grant: { scope: 'run', uses: 3 } },
      });
      expect(decided.status, decided.text).toBe(200);
      const { grant } = decided.body as { grant: Grant };
      expect((await call('k0')).isError).toBeUndefined();

      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`k${i + 1}`)));
      const through = results.filter((r) => r.isError === undefined);
      const waiting = results.filter((r) => textOf(r).startsWith('APPROVAL_REQUIRED'));
      expect(through).toHaveLength(3);
      expect(waiting).toHaveLength(7);
      const after = (await gw.request('GET', `/v1/grants/${grant.id}`)).body as Grant;
      expect(after).toMatchObject({ uses: 3, state: 'used_up' });
    } finally {
      await client.close();
    }
  });
});
