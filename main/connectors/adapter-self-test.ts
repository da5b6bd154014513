import type { AdapterConfig, ConnectorAdapter } from '../../contracts/connector-adapter.ts';
import { signInbound, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './inbound-auth.ts';

export type SelfTestCheck = { check: string; ok: boolean; detail: string | null };

/**
 * `ccos connectors test`: signs a sample message as the connector's sender would and runs the
 * adapter's proof check, parse and activation on it. Nothing is stored or routed; a wrong
 * signature must fail too, or the check proves nothing.
 */
export function selfTest(
  adapter: ConnectorAdapter,
  config: AdapterConfig,
  secret: string | null,
  now: Date,
): SelfTestCheck[] {
  const body = Buffer.from(
    JSON.stringify({
      id: `selftest-${now.getTime()}`,
      channel_id: 'selftest',
      chat_type: 'direct',
      sender_id: 'selftest',
      text: 'connector self-test',
    }),
    'utf8',
  );
  const checks: SelfTestCheck[] = [];
  const mode = config.inbound_auth.mode;
  if (mode === 'person') {
    checks.push({
      check: 'proof',
      ok: true,
      detail: 'the local chat is proven by the admin session',
    });
  } else if (secret === null) {
    checks.push({
      check: 'secret',
      ok: false,
      detail: 'its secret is missing from the secret store',
    });
    return checks;
  } else {
    const timestamp = String(now.getTime());
    const headers = (sig: string): Record<string, string> =>
      mode === 'hmac'
        ? { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: sig }
        : { authorization: `Bearer ${sig}` };
    const good = mode === 'hmac' ? signInbound(secret, timestamp, body) : secret;
    const request = (h: Record<string, string>) => ({
      header: (name: string) => h[name.toLowerCase()],
      body,
      received_at: now,
    });
    const accepted = adapter.authenticate(request(headers(good)), config, secret);
    checks.push({
      check: 'proof accepted',
      ok: accepted.ok,
      detail: accepted.ok ? null : accepted.rule_id,
    });
    const forged = adapter.authenticate(request(headers(`${good}x`)), config, secret);
    checks.push({
      check: 'forged proof refused',
      ok: !forged.ok,
      detail: forged.ok ? 'a forged proof passed' : forged.rule_id,
    });
  }
  const parsed = adapter.parse(body);
  checks.push({ check: 'parse', ok: parsed.ok, detail: parsed.ok ? null : parsed.rule_id });
  if (parsed.ok) {
    const activation = adapter.activation(parsed.message, config.activation);
    checks.push({
      check: 'direct message activates',
      ok: activation.activated,
      detail: activation.reason,
    });
  }
  return checks;
}
