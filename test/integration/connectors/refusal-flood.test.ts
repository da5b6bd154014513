import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import { RULE_REFUSAL_AUDIT_LIMIT } from '../../../main/connectors/connector-inbound.ts';
import { signInbound } from '../../../main/connectors/inbound-auth.ts';
import {
  DEFAULT_REFUSAL_AUDIT_LIMIT,
  UNKNOWN_CONNECTOR_KEY,
} from '../../../main/connectors/refusal-audit-limit.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { manualClock } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

const LIMIT = DEFAULT_REFUSAL_AUDIT_LIMIT.per_window;
const FLOOD = LIMIT + 7;

/**
 * An attacker who can reach the inbound route but holds no key floods it: every request is
 * still refused, a valid message still gets through, but the chain grows by at most the
 * audit limit per window — the rest is counted in one entry, never dropped silently.
 */
describe('a flood of unauthenticated inbound requests', () => {
  const clock = manualClock(new Date().toISOString());
  let gw: GatewayTestHost;
  let secret: string;

  beforeAll(async () => {
    gw = await startGatewayHost({ clock });
    const put = await gw.request('PUT', '/v1/connectors/hook/adapter', {
      json: {
        adapter: 'webhook',
        inbound_auth: { mode: 'hmac' },
        activation: {},
        template: { goal: 'Answer the message', budget: { max_steps: 3 } },
      },
    });
    expect(put.status).toBe(200);
    secret = (put.body as { secret: string }).secret;
  });
  afterAll(async () => {
    await gw.stop();
  });

  const inbound = (connectorId: string, body: string, headers: Record<string, string>) =>
    gw.request('POST', `/v1/connectors/${connectorId}/inbound`, {
      token: null,
      raw: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const bodyOf = (id: string) =>
    JSON.stringify({ id, channel_id: 'c-1', chat_type: 'direct', sender_id: 'bob', text: 'hi' });
  const forged = (id: string) => {
    const ts = String(clock.now().getTime());
    return inbound('hook', bodyOf(id), { 'x-ccos-timestamp': ts, 'x-ccos-signature': 'sha256=00' });
  };
  const rejections = async () => await gw.chain('message.rejected');

  it('refuses every forged request, records the first of a window one by one and counts the rest', async () => {
    const statuses = await Promise.all(Array.from({ length: FLOOD }, (_, i) => forged(`f-${i}`)));
    expect(statuses.every((r) => r.status === 401)).toBe(true);
    // A genuine message in the middle of the flood is accepted as usual.
    const body = bodyOf('genuine');
    const ts = String(clock.now().getTime());
    const good = await inbound('hook', body, {
      'x-ccos-timestamp': ts,
      'x-ccos-signature': signInbound(secret, ts, Buffer.from(body)),
    });
    expect(good.status).toBe(202);
    expect((good.body as InboundResult).outcome).toBe('waiting_channel_approval');

    const forHook = (await rejections()).filter((e) => e.data['connector_id'] === 'hook');
    expect(forHook).toHaveLength(LIMIT);
    expect(forHook.every((e) => e.rule_id === 'connector.bad_signature')).toBe(true);

    // The next window's first refusal brings the count of the last one with it.
    clock.advance(DEFAULT_REFUSAL_AUDIT_LIMIT.window_ms);
    expect((await forged('after')).status).toBe(401);
    const after = (await rejections()).slice(-2);
    expect(after[0]).toMatchObject({
      rule_id: RULE_REFUSAL_AUDIT_LIMIT,
      data: { connector_id: 'hook', suppressed: FLOOD - LIMIT },
    });
    expect(after[1]?.rule_id).toBe('connector.bad_signature');
  });

  it('shares one window among ids that name no connector, and records its count at stop', async () => {
    const before = (await rejections()).length;
    const body = bodyOf('x');
    for (let i = 0; i < FLOOD; i++)
      expect((await inbound(`nobody-${i}`, body, {})).status).toBe(404);
    const unknown = (await rejections()).slice(before);
    expect(unknown).toHaveLength(LIMIT);
    expect(unknown.every((e) => e.rule_id === 'connector.unknown_connector')).toBe(true);

    await gw.host.stop();
    const rows = (await rawSql(
      gw.databaseFile,
      'select data from chain where rule_id = ? order by seq',
      [RULE_REFUSAL_AUDIT_LIMIT],
    )) as { data: string }[];
    expect(rows.map((r) => JSON.parse(r.data) as Record<string, unknown>).at(-1)).toMatchObject({
      connector_id: UNKNOWN_CONNECTOR_KEY,
      suppressed: FLOOD - LIMIT,
    });
  });
});
