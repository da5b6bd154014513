/**
 * Connectors, outbound half: messages/s delivered from the outbox by a real `OutboxDispatcher`
 * and `WebhookTransport` (claim with a lease, `egress.attempt` before sending, settle with
 * `outbound.attempt`/`egress.outcome` and the attempt history, all on a real SQLite chain) to a
 * receiver on 127.0.0.1, against a bare loop POSTing the same bodies to the same receiver with
 * as many requests in flight as the dispatcher's batch, in the same run.
 */
import { pino } from 'pino';
import { systemClock } from '../../main/clock.ts';
import { OutboxDispatcher } from '../../main/outbox/dispatcher.ts';
import { enqueueIn } from '../../main/outbox/outbox-store.ts';
import { WebhookTransport, type WebhookBody } from '../../main/outbox/webhook-transport.ts';
import { PUBLIC } from '../../main/policy/labels.ts';
import { systemWakeTimer } from '../../main/scheduler/wake-timer.ts';
import { startOutboxReceiver } from '../support/outbox-receiver.ts';
import { openTestServices, type TestServices } from '../support/test-store.ts';
import type { BenchRow } from './bench-result.ts';

export const OUTBOX_MESSAGES = 600;
/** The dispatcher's rows per pass, so both sides keep as many requests in flight. */
export const OUTBOX_BATCH = 16;
const TEXT = 'benchmark reply: the quarterly numbers are summarised in the attached report';

async function queue(services: TestServices, count: number, prefix: string): Promise<void> {
  await services.chain.transact(async (tx) => {
    for (let i = 0; i < count; i++)
      await enqueueIn(tx, {
        connector_id: 'bench',
        channel_id: 'bench-channel',
        content: { text: `${TEXT} ${i}` },
        label: PUBLIC,
        run_id: null,
        step_id: null,
        session_id: null,
        idempotency_key: `${prefix}-${i}`,
        max_attempts: 8,
        actor: 'bench',
        now: new Date(),
      });
  });
}

/** POSTs `count` webhook bodies with `OUTBOX_BATCH` in flight; returns messages/s. */
async function bareLoop(url: string, count: number, prefix: string): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const body: WebhookBody = {
        id: `${prefix}-${i}`,
        idempotency_key: `${prefix}-${i}`,
        channel_id: 'bench-channel',
        text: `${TEXT} ${i}`,
      };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': body.idempotency_key },
        body: JSON.stringify(body),
        redirect: 'manual',
      });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: OUTBOX_BATCH }, worker));
  return count / ((performance.now() - started) / 1000);
}

/** Outbound messages/s delivered from the outbox vs a bare loopback POST loop. */
export async function measureOutboxDelivered(): Promise<BenchRow> {
  const services = await openTestServices();
  const receiver = await startOutboxReceiver(() => ({ status: 200 }));
  const clock = systemClock();
  const dispatcher = new OutboxDispatcher({
    db: services.store.db,
    chain: services.chain,
    clock,
    timer: systemWakeTimer(),
    jitter: Math.random,
    redactor: services.host.started.redactor,
    logger: pino({ level: 'silent' }),
    transports: () =>
      new WebhookTransport({
        urlFor: () => receiver.url,
        allowLoopbackHttp: true,
        timeoutMs: 10_000,
        clock,
      }),
    settings: { base_delay_ms: 1_000, max_delay_ms: 60_000, lease_ms: 30_000, batch: OUTBOX_BATCH },
  });
  const deliver = async (count: number, prefix: string): Promise<number> => {
    await queue(services, count, prefix);
    const started = performance.now();
    await dispatcher.runDue();
    const seconds = (performance.now() - started) / 1000;
    const left = await services.store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '!=', 'delivered')
      .executeTakeFirstOrThrow();
    if (left.n !== 0) throw new Error(`${left.n} messages were not delivered`);
    return count / seconds;
  };
  try {
    await bareLoop(receiver.url, 100, 'warm-bare');
    await deliver(50, 'warm');
    const outbox = await deliver(OUTBOX_MESSAGES, 'm');
    const baseline = await bareLoop(receiver.url, OUTBOX_MESSAGES, 'b');
    if (receiver.accepted.size !== receiver.requests.length)
      throw new Error('the receiver saw a key twice');
    return {
      metric: 'outbound messages delivered from the outbox',
      value: outbox,
      unit: 'msg/s',
      baseline,
      ratio: outbox / baseline,
    };
  } finally {
    await dispatcher.dispose();
    await receiver.close();
    await services.close();
  }
}
