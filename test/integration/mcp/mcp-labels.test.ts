import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { PolicyPack } from '../../../contracts/policy.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { startSocialService, type SocialService } from '../../support/json-service.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import {
  approvalIdIn,
  chainEntry,
  connectAs,
  runsOf,
  textOf,
  type McpTestClient,
} from './mcp-helpers.ts';

/** Text only the feed holds: personal data of whoever wrote the posts. */
const PRIVATE_POST = 'Dr. Okafor says the biopsy came back positive, tell no one';
/** A credential a skill reads: no pack may show it to an MCP client. */
const CANARY_TOKEN = 'tok-CANARY-7f3a9c1e0b';

/**
 * No operation approval floor, so only the label and taint rules can ask; calls that need a
 * person answer at once. The MCP client's context is untrusted (the default, left out).
 */
const FLOORLESS: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'mcp-floorless',
  approval_capabilities: [],
  mcp_call_wait_ms: 0,
};
/** The same, with the client's context trusted: the pack says so explicitly. */
const TRUSTING: PolicyPack = { ...FLOORLESS, id: 'mcp-trusting', mcp_client_taint: 'trusted' };
/** The same, showing MCP clients every `pii.*` label (never `secret.token`). */
const SHOWING: PolicyPack = {
  ...TRUSTING,
  id: 'mcp-showing',
  mcp_client_labels: ['pii.redacted', 'pii.chat.message', 'pii.chat.metadata', 'pii.attachment'],
};

/** A local service: a feed of people's posts, a token endpoint, and a posting endpoint. */
function startSocial(): Promise<SocialService> {
  return startSocialService(
    { author: 'amara', text: PRIVATE_POST },
    { '/api/token': { token: CANARY_TOKEN } },
  );
}

function socialSkill(origin: string): string {
  return [
    'name: Social',
    'skill_id: social',
    'version: 1.0.0',
    'description: A feed of people’s posts, a token, and posting.',
    `base_url: ${origin}/api`,
    'operations:',
    '  - { id: feed, method: GET, path: /feed, description: Read the feed., approval: never, output_label: pii.chat.message }',
    '  - { id: token, method: GET, path: /token, description: Read a token., approval: never, output_label: secret.token }',
    '  - id: post',
    '    method: POST',
    '    path: /posts',
    '    description: Publish a post.',
    '    approval: never',
    '    output_label: public',
    '    parameters:',
    '      - { name: text, in: body, type: string, required: true }',
  ].join('\n');
}

const call = (mcp: McpTestClient, name: string, args: Record<string, unknown> = {}) =>
  mcp.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

/**
 * Issue 22 over MCP: an MCP client's calls are judged by a window the host can stand behind
 * (what it gave the session, untrusted by default), it is never offered the transform tools,
 * and a result labelled above `public` is withheld unless the pack shows that label — never
 * `secret.token`. Real host on 127.0.0.1, the SDK client, a real declarative skill against a
 * real local service.
 */
describe('MCP clients under the label and taint rules', () => {
  let gw: GatewayTestHost;
  let social: SocialService;
  let dir: string;
  beforeAll(async () => {
    social = await startSocial();
    gw = await startGatewayHost({
      policyPacks: [FLOORLESS, TRUSTING, SHOWING],
      allowLoopbackHttp: true,
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'ccos-mcp-labels-'));
    const file = path.join(dir, 'social.yaml');
    await writeFile(file, socialSkill(social.origin));
    const installed = await gw.request('POST', '/v1/skills', { json: { path: file } });
    expect(installed.status, installed.text).toBe(201);
  });
  afterAll(async () => {
    await gw.stop();
    await social.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an effectful call from a client whose context the host cannot see asks a person first (taint gate), naming the client', async () => {
    const mcp = await connectAs(gw, 'untrusted-desk', { packs: [FLOORLESS.id] });
    try {
      const before = social.posts.length;
      const result = await call(mcp, 'social__post', { text: 'steered by a web page' });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^APPROVAL_REQUIRED: waiting for approval apr_/);
      expect(social.posts).toHaveLength(before);
      const approval = (await gw.request('GET', `/v1/approvals/${approvalIdIn(textOf(result))}`))
        .body as Approval;
      expect(approval).toMatchObject({ kind: 'operation', scope: 'social__post' });
      expect(approval.justification).toContain('untrusted data from the MCP client ccos-test');
      expect(approval.request).toMatchObject({
        taint_gate: true,
        window: { taint: 'untrusted', label: 'public' },
        argument_sources: { text: [expect.stringContaining('the MCP client ccos-test')] },
      });
      const [run] = await runsOf(gw, 'untrusted-desk');
      const gated = await chainEntry(gw, (e) => e.run_id === run?.id && e.rule_id === 'taint.gate');
      expect(gated.data).toMatchObject({ decision: 'approval_required', tool: 'social__post' });
      // A person approves in CCOS: the same call, made again, runs once.
      const decided = await gw.request('POST', `/v1/approvals/${approval.id}`, {
        json: { decision: 'approve' },
      });
      expect(decided.status, decided.text).toBe(200);
      const again = await call(mcp, 'social__post', { text: 'steered by a web page' });
      expect(again.isError, textOf(again)).toBeUndefined();
      expect(social.posts).toHaveLength(before + 1);
    } finally {
      await mcp.client.close();
    }
  });

  it('a person cannot answer such a call with a standing grant under the default pack', async () => {
    const mcp = await connectAs(gw, 'granting-desk', { packs: [FLOORLESS.id] });
    try {
      const result = await call(mcp, 'social__post', { text: 'every hour' });
      const id = approvalIdIn(textOf(result));
      const granted = await gw.request('POST', `/v1/approvals/${id}`, {
        json: { decision: 'approve', grant: { scope: 'run', uses: 5 } },
      });
      expect(granted.status).toBe(403);
      expect(granted.body).toMatchObject({ error: { code: 'GRANT_NOT_ALLOWED' } });
    } finally {
      await mcp.client.close();
    }
  });

  it('the same call runs at once under a pack that trusts the client’s context', async () => {
    const mcp = await connectAs(gw, 'trusted-desk', { packs: [TRUSTING.id] });
    try {
      const before = social.posts.length;
      const result = await call(mcp, 'social__post', { text: 'hello' });
      expect(result.isError, textOf(result)).toBeUndefined();
      expect(social.posts).toHaveLength(before + 1);
    } finally {
      await mcp.client.close();
    }
  });

  it('personal data the host gave the session labels its window: a later network call is refused (egress by label)', async () => {
    const mcp = await connectAs(gw, 'showing-desk', { packs: [SHOWING.id] });
    try {
      const feed = await call(mcp, 'social__feed');
      expect(textOf(feed)).toContain(PRIVATE_POST);
      const before = social.posts.length;
      const leak = await call(mcp, 'social__post', { text: PRIVATE_POST });
      expect(leak.isError).toBe(true);
      expect(textOf(leak)).toMatch(/^REFUSED: /);
      expect(social.posts).toHaveLength(before);
      const [run] = await runsOf(gw, 'showing-desk');
      const denied = await chainEntry(
        gw,
        (e) => e.run_id === run?.id && e.rule_id === 'egress.label',
      );
      expect(denied.data).toMatchObject({ decision: 'denied', tool: 'social__post' });
    } finally {
      await mcp.client.close();
    }
  });

  it('never lists the transform, verifier or declassify tools, and refuses a call to one with a stable code', async () => {
    const mcp = await connectAs(gw, 'lister', { packs: [SHOWING.id] });
    try {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await mcp.client.listTools(cursor === undefined ? {} : { cursor });
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(names).toContain('social__feed');
      expect(names.filter((n) => /^ccos__(transform_|declassify)/.test(n))).toEqual([]);
      for (const tool of [
        'ccos__transform_summarize',
        'ccos__transform_redact',
        'ccos__transform_verify',
        'ccos__declassify',
      ]) {
        const result = await call(mcp, tool, {
          content_ref: 'q_anything',
          output_id: 'tfo_anything',
          justification: 'the client wants to read a quarantined message',
        });
        expect(result.isError).toBe(true);
        expect(result._meta?.['ccos/code']).toBe('MCP_TOOL_NOT_OFFERED');
        expect(textOf(result)).toMatch(/^MCP_TOOL_NOT_OFFERED: /);
      }
    } finally {
      await mcp.client.close();
    }
  });

  it('withholds a result labelled above public from a client whose pack does not show it, on the chain; the window stays public', async () => {
    const mcp = await connectAs(gw, 'withheld-desk', { packs: [TRUSTING.id] });
    try {
      const feed = await call(mcp, 'social__feed');
      const text = JSON.stringify(feed);
      expect(text).not.toContain(PRIVATE_POST);
      expect(feed.structuredContent).toBeUndefined();
      expect(feed.isError).toBe(true);
      expect(feed._meta?.['ccos/code']).toBe('LABEL_WITHHELD');
      expect(textOf(feed)).toContain(
        '[withheld: pii.chat.message from skill social@1.0.0 op feed]',
      );
      const [run] = await runsOf(gw, 'withheld-desk');
      const entry = await chainEntry(
        gw,
        (e) => e.run_id === run?.id && e.rule_id === 'mcp.client_label',
      );
      expect(entry).toMatchObject({ event_type: 'policy.decision' });
      expect(entry.data).toMatchObject({
        decision: 'withheld',
        tool: 'social__feed',
        label: 'pii.chat.message',
      });
      expect(JSON.stringify(entry)).not.toContain(PRIVATE_POST);
      // What the client never saw does not label its window: a post is not refused for it.
      const post = await call(mcp, 'social__post', { text: 'nothing private' });
      expect(post.isError, textOf(post)).toBeUndefined();
    } finally {
      await mcp.client.close();
    }
  });

  it('withholds a secret.token result even from a pack that shows every pii label', async () => {
    const mcp = await connectAs(gw, 'secret-desk', { packs: [SHOWING.id] });
    try {
      const token = await call(mcp, 'social__token');
      expect(JSON.stringify(token)).not.toContain(CANARY_TOKEN);
      expect(token._meta?.['ccos/code']).toBe('LABEL_WITHHELD');
      expect(textOf(token)).toContain('[withheld: secret.token from skill social@1.0.0 op token]');
    } finally {
      await mcp.client.close();
    }
  });
});
