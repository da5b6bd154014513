import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { API, STREAMED_EVENT_TYPES, type StreamEvent } from '../../../contracts/api.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Principal } from '../../auth/token-service.ts';
import { isAppError } from '../../errors.ts';
import { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';

const BACKLOG_PAGE = 500;
const STREAMED = new Set<string>(STREAMED_EVENT_TYPES);

/**
 * `GET /v1/events`: run transitions and approvals as server-sent events, in chain order.
 * Each event's id is its chain seq, so a client that reconnects with `Last-Event-ID`
 * gets exactly what it missed (read back from the chain) and then the live tail, with
 * nothing lost or repeated between the two.
 */
export function registerEventStreamRoute(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.events), async (c) => {
    const principal = await access.requireScope(c, 'runs:read');
    const lastEventId = Number(c.req.valid('header')['last-event-id'] ?? '0');
    const visible = visibilityFilter(deps, principal);
    return streamSSE(c, async (stream) => {
      // Subscribe before reading the backlog so no entry falls between the two.
      const live: ChainEntry[] = [];
      let wake: (() => void) | undefined;
      const subscription = deps.chain.subscribe((entries) => {
        live.push(...entries);
        wake?.();
      });
      stream.onAbort(() => {
        void subscription.dispose();
        wake?.();
      });
      // A comment at once, so the response (headers) reaches the client now rather than with
      // the first event: a client can tell "connected, nothing new" from "still connecting".
      await stream.write(': open\n\n');
      try {
        let sent = await sendBacklog(deps, stream, lastEventId, visible);
        while (!stream.aborted) {
          const batch = live.splice(0);
          for (const entry of batch) {
            if (entry.seq <= sent) continue;
            if (STREAMED.has(entry.event_type) && (await visible(entry))) await send(stream, entry);
            sent = entry.seq;
          }
          if (live.length > 0) continue;
          const woke = new Promise<void>((resolve) => (wake = resolve));
          const timedOut = await Promise.race([
            woke.then(() => false),
            stream.sleep(deps.keepAliveMs).then(() => true),
          ]);
          wake = undefined;
          // A comment line keeps proxies and idle timeouts from closing a quiet stream.
          if (timedOut) await stream.write(': keep-alive\n\n');
        }
      } finally {
        await subscription.dispose();
      }
    });
  });
}

async function sendBacklog(
  deps: GatewayDeps,
  stream: SSEStreamingApi,
  afterSeq: number,
  visible: (e: ChainEntry) => Promise<boolean>,
): Promise<number> {
  let sent = afterSeq;
  for (;;) {
    const page = await deps.chain.query({ after_seq: sent, limit: BACKLOG_PAGE });
    for (const entry of page.entries) {
      if (STREAMED.has(entry.event_type) && (await visible(entry))) await send(stream, entry);
      sent = entry.seq;
    }
    if (page.next_after_seq === null) return sent;
  }
}

function send(stream: SSEStreamingApi, entry: ChainEntry): Promise<void> {
  const event: StreamEvent = {
    seq: entry.seq,
    event_type: entry.event_type,
    timestamp: entry.timestamp,
    session_id: entry.session_id,
    run_id: entry.run_id,
    data: entry.data,
  };
  return stream.writeSSE({
    id: String(entry.seq),
    event: entry.event_type,
    data: JSON.stringify(event),
  });
}

/** Admins see everything; other tokens only the events of runs they may see. */
function visibilityFilter(
  deps: GatewayDeps,
  principal: Principal,
): (e: ChainEntry) => Promise<boolean> {
  if (principal.kind === 'admin') return () => Promise.resolve(true);
  const owners = new Map<string, string>();
  return async (entry) => {
    if (entry.run_id === null) return false;
    let owner = owners.get(entry.run_id);
    if (owner === undefined) {
      const run = await deps.runs.get(entry.run_id).catch((e: unknown) => {
        if (isAppError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      if (run === undefined) return false;
      owner = run.created_by;
      owners.set(entry.run_id, owner);
    }
    return AccessControl.canSee(principal, { id: entry.run_id, created_by: owner });
  };
}
