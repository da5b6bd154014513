import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import { streamSSE } from 'hono/streaming';
import { API } from '../../../contracts/api.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Principal } from '../../auth/token-service.ts';
import { systemClock } from '../../clock.ts';
import { isAppError } from '../../errors.ts';
import { TaskLimit } from '../../task-limit.ts';
import { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import type { UiSessions } from '../shared/ui-sessions.ts';
import { EventStreamSession, type CredentialStanding } from './event-stream-session.ts';

/** Replay pages read at once across all clients: a run's writes wait behind at most these. */
const REPLAY_READS_AT_ONCE = 2;

/**
 * `GET /v1/events`: run transitions and approvals as server-sent events, in chain order.
 * Each event's id is its chain seq, so a client that reconnects with `Last-Event-ID`
 * gets exactly what it missed (read back from the chain) and then the live tail, with
 * nothing lost or repeated between the two. `EventStreamSession` serves each client.
 */
export function registerEventStreamRoute(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
  uiSessions: UiSessions,
): void {
  // Host-wide: replays read the store a few pages at a time, whatever the number of clients.
  const replayReads = new TaskLimit(REPLAY_READS_AT_ONCE);
  app.openapi(createRoute(API.events), async (c) => {
    const principal = await access.requireScope(c, 'runs:read');
    const lastEventId = Number(c.req.valid('header')['last-event-id'] ?? '0');
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    const visible = visibilityFilter(deps, principal);
    // A browser's stream lives as long as its session (sign-out ends it); a token's, the token.
    const browser = c.get('uiSession');
    const standing: () => Promise<CredentialStanding> =
      browser === undefined
        ? () => deps.tokens.standing(principal.token_id)
        : () => Promise.resolve(uiSessions.isLive(browser.id) ? 'valid' : 'revoked');
    return streamSSE(c, async (stream) => {
      const session = new EventStreamSession(
        {
          chain: deps.chain,
          standing,
          onSignOut:
            browser === undefined ? undefined : (ended) => uiSessions.onEnd(browser.id, ended),
          clock: deps.clock ?? systemClock(),
          keepAliveMs: deps.keepAliveMs,
          replayReads,
          visible,
          frameData: (entry) => outboundFrameData(deps, entry),
          destroy: () => outgoing?.destroy(),
          lagging: () => outgoing?.writableNeedDrain === true,
        },
        stream,
        principal,
        lastEventId,
      );
      // A comment at once, so the response (headers) reaches the client now rather than with
      // the first event: a client can tell "connected, nothing new" from "still connecting".
      await stream.write(': open\n\n');
      await session.run().catch((err: unknown) => {
        // A host stopping under an open stream may close the store before the stream sees it.
        if (!stream.aborted) deps.logger.error({ err }, 'an event stream failed');
      });
    });
  });
}

/**
 * A published message's frame carries its text (and what it answers), read from the outbox
 * row when sent; a pruned row's frame says so instead.
 */
async function outboundFrameData(
  deps: GatewayDeps,
  entry: ChainEntry,
): Promise<Record<string, unknown> | undefined> {
  if (entry.event_type !== 'message.outbound' || deps.outboundContent === undefined)
    return undefined;
  const id = entry.data.outbox_id;
  const content = typeof id === 'string' ? await deps.outboundContent(id) : undefined;
  return content === undefined ? { pruned: true } : { ...content };
}

/**
 * Admins see everything; other tokens only the events of runs they may see — except a
 * published message (`message.outbound`), which a connector token sees only when it is that
 * connector's: owning the run that sent it to another connector shows it nothing.
 */
function visibilityFilter(
  deps: GatewayDeps,
  principal: Principal,
): (e: ChainEntry) => Promise<boolean> {
  if (principal.kind === 'admin') return () => Promise.resolve(true);
  const owners = new Map<string, string>();
  return async (entry) => {
    if (entry.event_type === 'message.outbound')
      return (
        principal.kind === 'connector' &&
        principal.connector_id !== null &&
        entry.data.connector_id === principal.connector_id
      );
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
