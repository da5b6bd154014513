/**
 * Connectors: inbound messages/s accepted into quarantine by a real host (HMAC check, replay
 * record, duplicate check, sealed quarantine blob, envelope, routing to the session's run, chain
 * entries) against a bare `node:http` loopback exchange of the same signed bodies, with the
 * same client and concurrency, in the same run. One exported function per measurement, so the
 * outbound half (deliveries/s) adds its own beside it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Approval } from '../../contracts/approvals.ts';
import { startGatewayHost } from '../integration/gateway/helpers/gateway-host.ts';
import { postSignedInbound } from '../support/signed-inbound.ts';
import type { BenchResult, BenchRow } from './bench-result.ts';
import { measureOutboxDelivered, OUTBOX_BATCH, OUTBOX_MESSAGES } from './outbox-deliveries.ts';

const MESSAGES = 600;
const CONCURRENCY = 8;

/** Sends `count` signed messages to `url` with `CONCURRENCY` in flight; returns messages/s. */
async function drive(url: string, secret: string, count: number, prefix: string): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const res = await postSignedInbound(url, secret, {
        id: `${prefix}-${i}`,
        channel_id: 'bench',
        chat_type: 'direct',
        sender_id: 'bench-sender',
        text: `benchmark message ${i}: please summarise the quarterly numbers`,
      });
      if (res.status !== 202) throw new Error(`inbound answered ${res.status}`);
      await res.arrayBuffer();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - started) / 1000);
}

/** Inbound messages/s into quarantine vs a bare loopback exchange. */
export async function measureInboundAccepted(): Promise<BenchRow> {
  const gw = await startGatewayHost();
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"outcome":"delivered_to_active_run"}');
    });
  });
  try {
    const put = await gw.request('PUT', '/v1/connectors/bench/adapter', {
      json: { adapter: 'webhook', inbound_auth: { mode: 'hmac' }, template: { goal: 'bench' } },
    });
    const secret = (put.body as { secret: string }).secret;
    const inbound = `${gw.url}/v1/connectors/bench/inbound`;
    // Open and approve the channel, so every measured message is routed, not held.
    await drive(inbound, secret, 1, 'open');
    const list = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const channel = list.approvals.find((a) => a.kind === 'channel');
    await gw.request('POST', `/v1/approvals/${channel?.id ?? ''}`, {
      json: { decision: 'approve' },
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/inbound`;
    await drive(bareUrl, secret, 100, 'warm-bare');
    await drive(inbound, secret, 50, 'warm');
    const host = await drive(inbound, secret, MESSAGES, 'm');
    const baseline = await drive(bareUrl, secret, MESSAGES, 'b');
    return {
      metric: 'inbound messages accepted into quarantine',
      value: host,
      unit: 'msg/s',
      baseline,
      ratio: host / baseline,
    };
  } finally {
    bare.close();
    await gw.stop();
  }
}

export async function run(): Promise<BenchResult> {
  const rows = [await measureInboundAccepted(), await measureOutboxDelivered()];
  return {
    suite: 'connectors',
    rows,
    notes: [
      `${MESSAGES} HMAC-signed messages, ${CONCURRENCY} in flight, fetch over loopback; baseline: bare node:http reading the body and answering 202.`,
      `Outbound: ${OUTBOX_MESSAGES} queued messages delivered by OutboxDispatcher + WebhookTransport (batch ${OUTBOX_BATCH}) to a deduping receiver on 127.0.0.1; baseline: a bare fetch loop POSTing the same bodies to that receiver, ${OUTBOX_BATCH} in flight.`,
      `${os.cpus().length} CPUs, Node ${process.version}.`,
    ],
  };
}
