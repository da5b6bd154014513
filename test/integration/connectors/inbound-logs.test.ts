import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInbound } from '../../../main/connectors/inbound-auth.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

const CANARY = 'CANARY-logs-51d2e0';

/** The host's own redacting logger at debug level never writes an inbound message's text. */
describe('inbound connector logs', () => {
  let gw: GatewayTestHost;
  const lines: string[] = [];

  beforeAll(async () => {
    gw = await startGatewayHost({
      logDestination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('logs neither accepted nor refused bodies, nor the secret', async () => {
    const put = await gw.request('PUT', '/v1/connectors/hook/adapter', {
      json: { adapter: 'webhook', inbound_auth: { mode: 'hmac' }, template: { goal: 'Answer' } },
    });
    const secret = (put.body as { secret: string }).secret;
    const send = (body: string, sign = true) => {
      const ts = String(Date.now());
      return gw.request('POST', '/v1/connectors/hook/inbound', {
        token: null,
        raw: body,
        headers: {
          'x-ccos-timestamp': ts,
          'x-ccos-signature': sign ? signInbound(secret, ts, Buffer.from(body)) : 'sha256=0',
        },
      });
    };
    const message = JSON.stringify({
      id: 'm-1',
      channel_id: 'c',
      chat_type: 'direct',
      sender_id: 's',
      text: CANARY,
    });
    expect((await send(message)).status).toBe(202);
    expect((await send(message, false)).status).toBe(401);
    expect((await send(`{"${CANARY}": 1}`)).status).toBe(400);
    expect((await send(`{${CANARY}`)).status).toBe(400);
    expect(lines.length).toBeGreaterThan(0);
    const logs = lines.join('');
    expect(logs).not.toContain(CANARY);
    expect(logs).not.toContain(secret);
    const chain = JSON.stringify(await gw.chain());
    expect(chain).not.toContain(CANARY);
    expect(chain).not.toContain(secret);
  });
});
