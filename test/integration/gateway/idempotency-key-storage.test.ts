import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';

/** Issue 17 #29: an `Idempotency-Key` is a caller's free text; only its keyed hash is stored. */
describe('Idempotency-Key storage', () => {
  let gw: GatewayTestHost | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('stores a keyed hash, never the key, and still finds the run by the key', async () => {
    gw = await startGatewayHost();
    const key = 'my-key-0123456789abcdef';
    const body = { goal: 'stored by hash' };
    const first = await gw.request('POST', '/v1/runs', {
      json: body,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const rows = (await rawSql(gw.databaseFile, 'select key from idempotency_keys')) as {
      key: string;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.key).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(rows[0]?.key).not.toContain(key);
    const again = await gw.request('POST', '/v1/runs', {
      json: body,
      headers: { 'idempotency-key': key },
    });
    expect(again.status).toBe(200);
    expect((again.body as Run).id).toBe((first.body as Run).id);
  });

  it('replaces a key an older version stored in plain at start, and it still matches', async () => {
    gw = await startGatewayHost();
    const key = 'legacy-key-0123456789';
    const body = { goal: 'from an older version' };
    const first = await gw.request('POST', '/v1/runs', {
      json: body,
      headers: { 'idempotency-key': key },
    });
    const runId = (first.body as Run).id;
    // What an older version left: the key itself in the row.
    await rawSql(gw.databaseFile, 'update idempotency_keys set key = ?', [key]);
    await gw.host.stop();
    const started = await gw.host.start();
    const rows = (await rawSql(gw.databaseFile, 'select key from idempotency_keys')) as {
      key: string;
    }[];
    expect(rows.map((r) => r.key.startsWith('hmac-sha256:'))).toEqual([true]);
    const res = await fetch(`${started.gateway.url}/v1/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.adminToken}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Run).id).toBe(runId);
  });
});
