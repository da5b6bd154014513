import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthVerdict, InboundRequest } from '../../contracts/connector-adapter.ts';

/** Headers of an HMAC-signed inbound request. */
export const TIMESTAMP_HEADER = 'x-ccos-timestamp';
export const SIGNATURE_HEADER = 'x-ccos-signature';

/** The rules an inbound refusal names (every refusal is a `message.rejected` entry with one). */
export const RULE_UNKNOWN_CONNECTOR = 'connector.unknown_connector';
export const RULE_OVERSIZED = 'connector.oversized_payload';
export const RULE_MISSING_PROOF = 'connector.missing_proof';
export const RULE_BAD_SIGNATURE = 'connector.bad_signature';
export const RULE_STALE_TIMESTAMP = 'connector.stale_timestamp';
export const RULE_REPLAY = 'connector.replay';
export const RULE_BAD_TOKEN = 'connector.bad_token';
export const RULE_MALFORMED_JSON = 'connector.malformed_json';
export const RULE_INVALID_MESSAGE = 'connector.invalid_message';

/** What a sender signs: the timestamp, a dot, and the exact body bytes. */
export function signedBytes(timestamp: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]);
}

/** `sha256=<hex>`: the signature a sender puts in `x-ccos-signature`. */
export function signInbound(secret: string, timestamp: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(signedBytes(timestamp, body)).digest('hex')}`;
}

/**
 * Compares two strings in time that depends only on their lengths' digests: both sides are
 * hashed first, so neither the secret's length nor a matching prefix leaks through timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/**
 * HMAC-SHA256 over timestamp and body, within `windowMs` of the host's clock. The replay key
 * is the signature: the caller records it and refuses a second request carrying it.
 */
export function verifyHmac(request: InboundRequest, secret: string, windowMs: number): AuthVerdict {
  const timestamp = request.header(TIMESTAMP_HEADER);
  const signature = request.header(SIGNATURE_HEADER);
  if (timestamp === undefined || signature === undefined)
    return {
      ok: false,
      rule_id: RULE_MISSING_PROOF,
      reason: `${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} are required`,
    };
  if (!/^\d{1,15}$/.test(timestamp))
    return { ok: false, rule_id: RULE_STALE_TIMESTAMP, reason: 'the timestamp is not unix ms' };
  // The signature is checked before the clock, so an unsigned probe learns nothing of the window.
  if (!constantTimeEqual(signature, signInbound(secret, timestamp, request.body)))
    return { ok: false, rule_id: RULE_BAD_SIGNATURE, reason: 'the signature does not match' };
  const skew = Math.abs(request.received_at.getTime() - Number(timestamp));
  if (skew > windowMs)
    return {
      ok: false,
      rule_id: RULE_STALE_TIMESTAMP,
      reason: `the timestamp is ${Math.round(skew / 1000)} s from the host's clock (window ${windowMs / 1000} s)`,
    };
  return { ok: true, replay_key: signature.toLowerCase() };
}

/** `Authorization: Bearer <secret>`, compared in constant time. */
export function verifyBearer(request: InboundRequest, secret: string): AuthVerdict {
  const header = request.header('authorization');
  const presented = header === undefined ? undefined : /^Bearer (\S+)$/i.exec(header)?.[1];
  if (presented === undefined)
    return { ok: false, rule_id: RULE_MISSING_PROOF, reason: 'a bearer token is required' };
  if (!constantTimeEqual(presented, secret))
    return { ok: false, rule_id: RULE_BAD_TOKEN, reason: 'the bearer token does not match' };
  return { ok: true, replay_key: null };
}
