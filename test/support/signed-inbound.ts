import { signInbound } from '../../main/connectors/inbound-auth.ts';

/**
 * Posts `message` to a webhook connector's inbound URL as its sender would: JSON, with the
 * timestamp and HMAC signature headers made with the connector's `secret` (at `at`, ms).
 */
export function postSignedInbound(
  url: string,
  secret: string,
  message: Record<string, unknown>,
  at: number = Date.now(),
): Promise<Response> {
  const body = JSON.stringify(message);
  const ts = String(at);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-ccos-timestamp': ts,
      'x-ccos-signature': signInbound(secret, ts, Buffer.from(body)),
    },
    body,
  });
}
