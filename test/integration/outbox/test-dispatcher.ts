import { pino } from 'pino';
import type { Clock } from '../../../main/clock.ts';
import { OutboxDispatcher } from '../../../main/outbox/dispatcher.ts';
import type { EnqueueInput } from '../../../main/outbox/outbox-store.ts';
import { WebhookTransport } from '../../../main/outbox/webhook-transport.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import type { WakeTimer } from '../../../main/scheduler/wake-timer.ts';
import type { TestServices } from '../../support/test-store.ts';

/** Backoff of a second doubling to a minute, and a lease longer than any test's send. */
export const TEST_OUTBOX_SETTINGS = {
  base_delay_ms: 1_000,
  max_delay_ms: 60_000,
  lease_ms: 30_000,
} as const;

/** The jitter source: a fixed draw, so each delay is exactly half its ceiling. */
export const HALF = (): number => 0.5;

export type TestDispatcherOptions = {
  /** Where every connector's messages are posted (a receiver on loopback). */
  url: string;
  clock: Clock;
  /** A timer the test fires by hand, so no test sleeps. */
  timer: WakeTimer;
  timeoutMs?: number;
  leaseMs?: number;
  soleWriter?: boolean;
};

/**
 * A real dispatcher over a test store, sending by real HTTP through the webhook transport to
 * one loopback URL, with a silent logger and the fixed jitter draw.
 */
export function testDispatcher(
  services: TestServices,
  options: TestDispatcherOptions,
): OutboxDispatcher {
  const { url, clock } = options;
  return new OutboxDispatcher({
    db: services.store.db,
    chain: services.chain,
    clock,
    timer: options.timer,
    jitter: HALF,
    redactor: services.host.started.redactor,
    logger: pino({ level: 'silent' }),
    transports: () =>
      new WebhookTransport({
        urlFor: () => url,
        allowLoopbackHttp: true,
        timeoutMs: options.timeoutMs ?? 10_000,
        clock,
      }),
    settings: {
      ...TEST_OUTBOX_SETTINGS,
      lease_ms: options.leaseMs ?? TEST_OUTBOX_SETTINGS.lease_ms,
    },
    ...(options.soleWriter === undefined ? {} : { soleWriter: options.soleWriter }),
  });
}

/**
 * A public message for connector `hook`'s channel `ch-1`, queued by `test` at `now` outside
 * any run; `overrides` set what a test is about (attempts, key, connector, run).
 */
export function testMessage(
  text: string,
  now: Date,
  overrides: Partial<EnqueueInput> = {},
): EnqueueInput {
  return {
    connector_id: 'hook',
    channel_id: 'ch-1',
    content: { text },
    label: PUBLIC,
    run_id: null,
    step_id: null,
    session_id: null,
    max_attempts: 1,
    actor: 'test',
    now,
    ...overrides,
  };
}
