import { expect } from 'vitest';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import type { GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

/**
 * Puts a webhook connector `hook` posting to `url` on a real host, and queues one message for
 * it through the host's own outbox; `deliver` lets the host's dispatcher try it now.
 */
export async function queueOnHost(
  gw: GatewayTestHost,
  url: string,
  text: string,
  maxAttempts = 1,
): Promise<{ id: string; idempotency_key: string }> {
  const put = await gw.request('PUT', '/v1/connectors/hook/adapter', {
    json: {
      adapter: 'webhook',
      inbound_auth: { mode: 'hmac' },
      template: { goal: 'Answer the message' },
      outbound_url: url,
    },
  });
  expect(put.status).toBe(200);
  const { started } = gw;
  return started.chain.transact((tx) =>
    enqueueIn(tx, {
      connector_id: 'hook',
      channel_id: 'ch-1',
      content: { text },
      label: PUBLIC,
      run_id: null,
      step_id: null,
      session_id: null,
      max_attempts: maxAttempts,
      actor: 'test',
      now: new Date(),
    }),
  );
}

/** The host's dispatcher runs what is due now, and the test waits until it has. */
export function deliverDue(gw: GatewayTestHost): Promise<void> {
  return gw.started.outbox.dispatcher.runDue();
}
