import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  type CallToolResult,
  type ClientCapabilities,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { chmod, cp } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { HOST_LOCK_FILE } from '../../../main/store/data-dir-lock.ts';
import { DATABASE_FILE } from '../../../main/store/open-store.ts';
import { DATABASE_FILE_MODE } from '../../../main/store/secure-data-dir.ts';
import { makeTempDir } from '../../support/test-store.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

export type McpTestClient = { client: Client; transport: StreamableHTTPClientTransport };

/** An SDK client connected to the host's `/mcp` with this bearer token. */
export async function connectMcp(
  gw: { url: string },
  token: string,
  options: { name?: string; capabilities?: ClientCapabilities } = {},
): Promise<McpTestClient> {
  const client = new Client(
    { name: options.name ?? 'ccos-test', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

/** The first chain entry `matches` accepts: already written, or the next one committed. */
export async function chainEntry(
  gw: GatewayTestHost,
  matches: (entry: ChainEntry) => boolean,
): Promise<ChainEntry> {
  let resolve: (entry: ChainEntry) => void = () => undefined;
  const heard = new Promise<ChainEntry>((r) => {
    resolve = r;
  });
  const subscription = gw.started.chain.subscribe((entries) => {
    const hit = entries.find(matches);
    if (hit !== undefined) resolve(hit);
  });
  try {
    const before = (await gw.chain()).find(matches);
    return before ?? (await heard);
  } finally {
    void subscription.dispose();
  }
}

/** The external runs a connector's sessions drove, newest first. */
export async function runsOf(gw: GatewayTestHost, connectorId: string): Promise<Run[]> {
  const res = await gw.request('GET', '/v1/runs?limit=100');
  const runs = (res.body as { runs: Run[] }).runs;
  return runs.filter((r) => r.created_by === `connector:${connectorId}` && r.driver === 'external');
}

/**
 * An SDK client of a connector of its own, with the `mcp` scope; with `packs`, the
 * connector's record first lets its runs use them (and `budget_caps`).
 */
export async function connectAs(
  gw: GatewayTestHost,
  connectorId: string,
  options: {
    packs?: string[];
    budget_caps?: Record<string, number>;
    name?: string;
    capabilities?: ClientCapabilities;
  } = {},
): Promise<McpTestClient> {
  const { packs, budget_caps, ...client } = options;
  if (packs !== undefined)
    await putConnector(gw, connectorId, {
      allowed_packs: packs,
      ...(budget_caps === undefined ? {} : { budget_caps }),
    });
  const { token } = await gw.connector(connectorId, ['mcp']);
  return connectMcp(gw, token, client);
}

/** Lets a connector's runs use these packs and caps. */
export async function putConnector(
  gw: GatewayTestHost,
  id: string,
  record: { allowed_packs: string[]; budget_caps?: Record<string, number> },
): Promise<void> {
  const res = await gw.request('PUT', `/v1/connectors/${id}`, { json: record });
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`connector record: ${res.status} ${res.text}`);
}

/** The text of a tool result's first content block. */
export function textOf(result: { content?: unknown }): string {
  const content = result.content as { type: string; text?: string }[] | undefined;
  return content?.[0]?.text ?? '';
}

/** The approval id a "waiting for approval apr_…" message names. */
export function approvalIdIn(message: string): string {
  const id = /apr_[0-9a-zA-Z_-]+/.exec(message)?.[0];
  if (id === undefined) throw new Error(`no approval id in: ${message}`);
  return id;
}

/** Long enough for any wait of these tests: the host, not the client, bounds the call. */
const PATIENT_CLIENT_MS = 600_000;

/**
 * A `tools/call` with a progress token, expected to wait for a person: `waiting` resolves
 * with the first `notifications/progress` (which names the approval), `result` with the
 * call's answer once the approval is decided.
 */
export function callWaitingForApproval(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal } = {},
): { waiting: Promise<Progress & { approvalId: string }>; result: Promise<CallToolResult> } {
  let heard: (progress: Progress & { approvalId: string }) => void = () => undefined;
  const waiting = new Promise<Progress & { approvalId: string }>((resolve) => {
    heard = resolve;
  });
  const result = client.callTool({ name, arguments: args }, CallToolResultSchema, {
    onprogress: (progress) => {
      heard({ ...progress, approvalId: approvalIdIn(progress.message ?? '') });
    },
    timeout: PATIENT_CLIENT_MS,
    ...options,
  }) as Promise<CallToolResult>;
  return { waiting, result };
}

/**
 * A copy of a running host's data dir as a SIGKILL at this instant would leave it: every
 * committed row (the database copied by `VACUUM INTO`, one consistent snapshot) and every other
 * file, but no process — so nothing its stop would have done (ending MCP sessions) happens.
 * The lock file is left out: its holder is this live test process, where a crashed host's
 * would be dead and taken over.
 */
export async function crashImage(gw: GatewayTestHost): Promise<string> {
  const dir = await makeTempDir('ccos-crashed-');
  const database = path.basename(gw.databaseFile);
  await cp(gw.dataDir, dir, {
    recursive: true,
    filter: (source) => {
      const name = path.basename(source);
      return !name.startsWith(database) && name !== HOST_LOCK_FILE;
    },
  });
  const copy = path.join(dir, DATABASE_FILE);
  await sql`VACUUM INTO ${copy}`.execute(gw.started.store.db);
  await chmod(copy, DATABASE_FILE_MODE);
  return dir;
}
