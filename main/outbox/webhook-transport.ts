import { checkEgressOrigin, originOf } from '../skills/manifest/egress-origin.ts';
import type { Clock } from '../clock.ts';
import { parseRetryAfter } from './backoff.ts';
import { resultOfStatus, type DeliveryResult } from './delivery-result.ts';
import type { DeliveryTarget, DeliveryTransport, OutboundDelivery } from './delivery-transport.ts';

export type WebhookTransportDeps = {
  /** The URL a webhook connection posts to (its configuration), or undefined when it has none. */
  urlFor: (connectorId: string) => string | undefined;
  /** Plain http only to loopback, and only when the host allows it (as for skills). */
  allowLoopbackHttp: boolean;
  /** How long one attempt may take before it counts as a timeout. */
  timeoutMs: number;
  clock: Clock;
};

/** The body a webhook receiver gets: the message, never the run's internals. */
export type WebhookBody = {
  id: string;
  idempotency_key: string;
  channel_id: string;
  text: string;
  reply_to?: string;
};

/**
 * The webhook connector's outbound half: one JSON POST per attempt to the connection's URL,
 * with `Idempotency-Key`. The URL's origin is checked like a skill's egress (https, or http to
 * loopback when allowed; no credentials in it); redirects are not followed, so the checked
 * origin is the only place the message can go.
 */
export class WebhookTransport implements DeliveryTransport {
  readonly #deps: WebhookTransportDeps;

  constructor(deps: WebhookTransportDeps) {
    this.#deps = deps;
  }

  target(delivery: OutboundDelivery): DeliveryTarget {
    const url = this.#deps.urlFor(delivery.connector_id);
    if (url === undefined)
      return {
        ok: false,
        rule_id: 'egress.destination',
        message: `connector ${delivery.connector_id} has no outbound URL`,
      };
    const origin = originOf(url);
    const check =
      origin === undefined
        ? { ok: false as const, reason: 'is not an http(s) URL without credentials' }
        : checkEgressOrigin(origin, this.#deps.allowLoopbackHttp);
    if (!check.ok)
      return {
        ok: false,
        rule_id: 'egress.origin',
        message: `the outbound URL of ${delivery.connector_id} ${check.reason}`,
      };
    return { ok: true, url, method: 'POST' };
  }

  async deliver(delivery: OutboundDelivery, signal: AbortSignal): Promise<DeliveryResult> {
    const target = this.target(delivery);
    if (!target.ok)
      return { ok: false, category: 'invalid', status: null, message: target.message };
    const body: WebhookBody = {
      id: delivery.id,
      idempotency_key: delivery.idempotency_key,
      channel_id: delivery.channel_id,
      text: delivery.content.text,
      ...(delivery.content.reply_to === undefined ? {} : { reply_to: delivery.content.reply_to }),
    };
    const timeout = AbortSignal.timeout(this.#deps.timeoutMs);
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': delivery.idempotency_key,
        },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.any([signal, timeout]),
      });
      // The answer's body is not ours to keep; draining it frees the connection.
      await response.body?.cancel();
      const retryAfter = parseRetryAfter(
        response.headers.get('retry-after'),
        this.#deps.clock.now(),
      );
      return resultOfStatus(response.status, retryAfter);
    } catch (err) {
      if (timeout.aborted)
        return {
          ok: false,
          category: 'timeout',
          status: null,
          message: `no answer within ${this.#deps.timeoutMs} ms`,
        };
      const cause = err instanceof Error ? (err.cause ?? err) : err;
      const code =
        typeof cause === 'object' && cause !== null && 'code' in cause
          ? String(cause.code)
          : 'network';
      return {
        ok: false,
        category: 'network',
        status: null,
        message: `the request failed (${code})`,
      };
    }
  }
}
