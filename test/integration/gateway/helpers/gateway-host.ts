import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pino, type DestinationStream } from 'pino';
import type { ChainEntry, ChainEventType } from '../../../../contracts/chain.ts';
import type { PolicyPack } from '../../../../contracts/policy.ts';
import type { TokenScope } from '../../../../contracts/tokens.ts';
import type { Clock } from '../../../../main/clock.ts';
import { parseHostConfig } from '../../../../main/config.ts';
import { Host, type StartedHost } from '../../../../main/host.ts';
import { DATABASE_FILE } from '../../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../../support/test-store.ts';
import { testHostEnv } from '../../../support/test-host-env.ts';

/** What a test sees of one HTTP exchange. */
export type ApiResponse = {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body was not JSON. */
  body: unknown;
  text: string;
};

export type RequestOptions = {
  /** Bearer token; `null` sends no Authorization header. Default: the admin token. */
  token?: string | null;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (no content-type is added). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
};

/** A real host on a temporary data dir, listening on 127.0.0.1 with a free port. */
export type GatewayTestHost = {
  host: Host;
  started: StartedHost;
  url: string;
  dataDir: string;
  adminToken: string;
  request: (method: string, urlPath: string, options?: RequestOptions) => Promise<ApiResponse>;
  /** A connector token with these scopes, created through the API. */
  connector: (connectorId: string, scopes: TokenScope[]) => Promise<{ token: string; id: string }>;
  /** Every chain entry (optionally of one type), in seq order. */
  chain: (eventType?: ChainEventType) => Promise<ChainEntry[]>;
  databaseFile: string;
  /** Stops the host and removes its data dir. */
  stop: () => Promise<void>;
};

export type GatewayHostOptions = {
  clock?: Clock;
  /** Let skills reach plain-http loopback origins (a test server on 127.0.0.1). */
  allowLoopbackHttp?: boolean;
  /**
   * Capture the host's own redacting logger (at debug level) instead of a silent one, so
   * a test sees the log lines exactly as the host would write them.
   */
  logDestination?: DestinationStream;
  /** Policy packs besides the default one (e.g. one with an approval timeout). */
  policyPacks?: readonly PolicyPack[];
  /** The renderer build the gateway serves (default: none, so no test depends on `vite build`). */
  rendererDir?: string | null;
};

export async function startGatewayHost(options: GatewayHostOptions = {}): Promise<GatewayTestHost> {
  const dataDir = await makeTempDir('ccos-gateway-');
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        log_level: options.logDestination === undefined ? 'silent' : 'debug',
        skills: { allow_loopback_http: options.allowLoopbackHttp ?? false },
      },
      testHostEnv(),
    ),
    {
      ...(options.logDestination === undefined
        ? { logger: pino({ level: 'silent' }) }
        : { logDestination: options.logDestination }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      rendererDir: options.rendererDir ?? null,
      ...(options.policyPacks === undefined ? {} : { policyPacks: options.policyPacks }),
    },
  );
  let started: StartedHost;
  try {
    started = await host.start();
  } catch (e) {
    await removeTempDir(dataDir);
    throw e;
  }
  const url = started.gateway.url;
  const adminToken = (await readFile(started.adminTokenFile, 'utf8')).trim();

  const request = async (
    method: string,
    urlPath: string,
    opts: RequestOptions = {},
  ): Promise<ApiResponse> => {
    const token = opts.token === undefined ? adminToken : opts.token;
    const headers: Record<string, string> = {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(opts.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    };
    const body = opts.json === undefined ? opts.raw : JSON.stringify(opts.json);
    const res = await fetch(`${url}${urlPath}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  return {
    host,
    started,
    url,
    dataDir,
    adminToken,
    databaseFile: path.join(dataDir, DATABASE_FILE),
    request,
    connector: async (connectorId, scopes) => {
      const res = await request('POST', '/v1/tokens', {
        json: { kind: 'connector', label: connectorId, connector_id: connectorId, scopes },
      });
      if (res.status !== 201) throw new Error(`token create failed: ${res.status} ${res.text}`);
      const created = res.body as { token: string; info: { id: string } };
      return { token: created.token, id: created.info.id };
    },
    chain: async (eventType) => {
      const entries: ChainEntry[] = [];
      let after = 0;
      for (;;) {
        const page = await started.chain.query({
          after_seq: after,
          limit: 1000,
          ...(eventType === undefined ? {} : { event_type: eventType }),
        });
        entries.push(...page.entries);
        if (page.next_after_seq === null) return entries;
        after = page.next_after_seq;
      }
    },
    stop: async () => {
      await host.stop();
      await removeTempDir(dataDir);
    },
  };
}

/** The error envelope of a response, or a test failure naming what came back instead. */
export function errorOf(res: ApiResponse): { code: string; message: string; details?: unknown } {
  const body = res.body as
    { error?: { code: string; message: string; details?: unknown } } | undefined;
  if (body?.error === undefined)
    throw new Error(`expected an error body, got ${res.status} ${res.text}`);
  return body.error;
}

/** The field paths an INVALID_INPUT error names. */
export function errorFields(res: ApiResponse): string[] {
  const details = errorOf(res).details as { fields?: { path: string }[] } | undefined;
  return (details?.fields ?? []).map((f) => f.path);
}
