import { expect } from 'vitest';
import type { StreamEvent } from '../../../../contracts/api.ts';
import type { Run } from '../../../../contracts/runs.ts';
import type { CreatedToken } from '../../../../contracts/tokens.ts';
import { openSse, type SseStream } from '../../gateway/helpers/sse-client.ts';
import { RUN_TIMEOUT_MS, type AutonomyHost } from './autonomy-host.ts';

/**
 * What each caller is shown of the event stream, for the tests of who may see which entries:
 * tokens of each kind, runs a connector owns, and the stream replayed from the start.
 */
export type StreamScope = {
  /** A fresh admin token (the UI's kind). */
  adminToken: () => Promise<string>;
  /** A connector token, labelled as its connector, that may create and read its own runs. */
  connectorToken: (connectorId: string) => Promise<string>;
  /** Creates a run as the token's holder (owned by its connector, for a connector's token). */
  createRunAs: (token: string, body: Record<string, unknown>) => Promise<Run>;
  /**
   * Every event the token is streamed from the start up to `marker`'s creation, inclusive.
   * Make the marker after everything the test looks for: once a stream shows it, it has
   * shown all before it, so no test waits for an absence.
   */
  eventsUntil: (token: string, marker: Run) => Promise<StreamEvent[]>;
  /** Closes every stream it opened. */
  close: () => void;
};

export function streamScope(h: AutonomyHost): StreamScope {
  const streams: SseStream[] = [];
  const created = (res: { status: number; text: string; body: unknown }): string => {
    expect(res.status, res.text).toBe(201);
    return (res.body as CreatedToken).token;
  };
  return {
    adminToken: async () =>
      created(await h.request('POST', '/v1/tokens', { kind: 'admin', label: 'ui' })),
    connectorToken: async (connectorId) =>
      created(
        await h.request('POST', '/v1/tokens', {
          kind: 'connector',
          label: connectorId,
          connector_id: connectorId,
          scopes: ['runs:create', 'runs:read'],
        }),
      ),
    createRunAs: async (token, body) => {
      const res = await fetch(`${h.started.gateway.url}/v1/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Run;
    },
    eventsUntil: async (token, marker) => {
      const sse = await openSse(`${h.started.gateway.url}/v1/events`, { token, lastEventId: 0 });
      streams.push(sse);
      expect(sse.status).toBe(200);
      const events = await sse.collectUntil((e) => {
        const event = JSON.parse(e.data) as StreamEvent;
        return event.event_type === 'run.created' && event.run_id === marker.id;
      }, RUN_TIMEOUT_MS);
      return events.map((e) => JSON.parse(e.data) as StreamEvent);
    },
    close: () => {
      for (const s of streams.splice(0)) s.close();
    },
  };
}
