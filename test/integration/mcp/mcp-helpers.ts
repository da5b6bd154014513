import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ChainEntry } from '../../../contracts/chain.ts';
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
