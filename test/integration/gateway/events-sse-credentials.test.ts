import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { openSse, type SseStream } from './helpers/sse-client.ts';

const TEST = { actor: 'test' };

/**
 * Issue 17 #18: an open `GET /v1/events` stream used to outlive its token, which was
 * checked once, at connect. A stream now ends when its token is revoked or expires.
 */
describe('GET /v1/events ends with its token', () => {
  let gw: GatewayTestHost | undefined;
  let clock: ManualClock | undefined;
  const open: SseStream[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await gw?.stop();
    gw = undefined;
  });

  async function start(options: { manual?: boolean } = {}): Promise<GatewayTestHost> {
    clock = options.manual === true ? manualClock(new Date().toISOString()) : undefined;
    gw = await startGatewayHost(clock === undefined ? {} : { clock });
    return gw;
  }

  async function watch(h: GatewayTestHost, token: string): Promise<SseStream> {
    const head = (await h.chain()).at(-1)?.seq ?? 0;
    const stream = await openSse(`${h.url}/v1/events`, { token, lastEventId: head });
    expect(stream.status).toBe(200);
    open.push(stream);
    return stream;
  }

  it('revoking the token ends its open stream, saying why; the token cannot reconnect', async () => {
    const h = await start();
    const watcher = await h.connector('watcher', ['runs:create', 'runs:read']);
    const stream = await watch(h, watcher.token);
    // The stream is live: the connector's own run arrives.
    await h.request('POST', '/v1/runs', { token: watcher.token, json: { goal: 'mine' } });
    expect((await stream.next()).event).toBe('run.created');

    expect((await h.request('DELETE', `/v1/tokens/${watcher.id}`)).status).toBe(200);
    expect(await stream.ended()).toBe('ended');
    expect(stream.comments).toContain('closed: token revoked');
    const again = await openSse(`${h.url}/v1/events`, { token: watcher.token });
    open.push(again);
    expect(again.status).toBe(401);
  });

  it('revoking the token of a client that stopped reading ends its stream all the same', async () => {
    const h = await start();
    // A backlog far larger than socket buffers hold, so the server ends up waiting to write.
    const run = await h.started.runs.create({ goal: 'noisy' }, TEST);
    const pad = 'p'.repeat(4000);
    for (let t = 0; t < 10; t++) {
      await h.started.chain.transact(async (tx) => {
        for (let i = 0; i < 500; i++) {
          await tx.append({
            event_type: 'run.transition',
            actor: 'test',
            run_id: run.id,
            data: { pad },
          });
        }
      });
    }
    const created = await h.request('POST', '/v1/tokens', { json: { kind: 'admin', label: 'tv' } });
    const stalled = created.body as { token: string; info: { id: string } };
    let response: http.IncomingMessage | undefined;
    let streaming: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (streaming = resolve));
    const closed = new Promise<void>((resolve) => {
      const req = http.get(
        `${h.url}/v1/events`,
        { headers: { authorization: `Bearer ${stalled.token}`, 'last-event-id': '0' } },
        (res) => {
          response = res;
          // Take the first bytes, then stop reading, as a stuck client does.
          res.once('data', () => {
            res.pause();
            streaming();
          });
          res.on('close', resolve);
          res.on('error', () => undefined);
        },
      );
      req.on('error', () => {
        resolve();
      });
    });
    await started;
    expect((await h.request('DELETE', `/v1/tokens/${stalled.info.id}`)).status).toBe(200);
    // Reading again only drains what was already sent: the server has ended the stream.
    response?.resume();
    await closed;
  });

  it('a token that expires while its stream is open ends it (judged by the host clock)', async () => {
    const h = await start({ manual: true });
    const created = await h.request('POST', '/v1/tokens', {
      json: { kind: 'admin', label: 'short', expires_in_s: 60 },
    });
    const { token } = created.body as { token: string };
    const stream = await watch(h, token);
    clock?.advance(61_000);
    // Any entry wakes the stream; it checks the token before sending anything more.
    await h.started.runs.create({ goal: 'after expiry' }, TEST);
    expect(await stream.ended()).toBe('ended');
    expect(stream.comments).toContain('closed: token expired');
  });

  it('a token that expires on a quiet stream ends it when the time comes', async () => {
    const h = await start();
    const created = await h.request('POST', '/v1/tokens', {
      json: { kind: 'admin', label: 'one second', expires_in_s: 1 },
    });
    const stream = await watch(h, (created.body as { token: string }).token);
    expect(await stream.ended(30_000)).toBe('ended');
    expect(stream.comments).toContain('closed: token expired');
  });
});
