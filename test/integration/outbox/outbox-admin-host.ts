import { expect } from 'vitest';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { startOutboxReceiver, type OutboxReceiver } from '../../support/outbox-receiver.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { testMessage } from './test-dispatcher.ts';

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
    enqueueIn(tx, testMessage(text, new Date(), { max_attempts: maxAttempts })),
  );
}

/** The host's dispatcher runs what is due now, and the test waits until it has. */
export function deliverDue(gw: GatewayTestHost): Promise<void> {
  return gw.started.outbox.dispatcher.runDue();
}

/** A real host whose webhook connector may post to loopback, and the receiver it posts to. */
export type DeadLetterHost = {
  gw: GatewayTestHost;
  /** Refuses the first request (a dead letter at once, with one attempt), then takes every one. */
  receiver: OutboxReceiver;
  stop: () => Promise<void>;
};

/** Starts the host and receiver the admin's dead-letter tests (API and CLI) share. */
export async function startDeadLetterHost(): Promise<DeadLetterHost> {
  const gw = await startGatewayHost({ allowLoopbackHttp: true });
  let refuseFirst = true;
  const receiver = await startOutboxReceiver(() => {
    const status = refuseFirst ? 400 : 200;
    refuseFirst = false;
    return { status };
  });
  return {
    gw,
    receiver,
    stop: async () => {
      await gw.stop();
      await receiver.close();
    },
  };
}
