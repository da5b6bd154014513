import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxList, OutboxMessageDetail } from '../../../contracts/outbox.ts';
import type { OutboxReceiver } from '../../support/outbox-receiver.ts';
import { errorOf, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import {
  deliverDue,
  queueOnHost,
  startDeadLetterHost,
  type DeadLetterHost,
} from './outbox-admin-host.ts';

/** `/v1/outbox` on a real host: the admin's dead-letter handling, and nobody else's (issue 23). */
describe('the outbox admin API', () => {
  let gw: GatewayTestHost;
  let receiver: OutboxReceiver;
  let started: DeadLetterHost;

  beforeAll(async () => {
    started = await startDeadLetterHost();
    ({ gw, receiver } = started);
  });
  afterAll(() => started.stop());

  it('lists a dead letter, shows its history, retries it into the host dispatcher and refuses a second retry', async () => {
    const message = await queueOnHost(gw, receiver.url, 'the nightly report is ready');
    await deliverDue(gw);
    const dead = await gw.request('GET', '/v1/outbox?state=dead&connector=hook');
    expect(dead.status).toBe(200);
    expect((dead.body as OutboxList).messages.map((m) => m.id)).toEqual([message.id]);
    const shown = (await gw.request('GET', `/v1/outbox/${message.id}`)).body as OutboxMessageDetail;
    expect(shown.content.text).toBe('the nightly report is ready');
    expect(shown.history.map((h) => [h.attempt, h.status, h.outcome, h.category])).toEqual([
      [1, 400, 'dead', 'invalid'],
    ]);

    const arrival = receiver.nextRequest();
    const retried = await gw.request('POST', `/v1/outbox/${message.id}/retry`, {
      json: { attempts: 2 },
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      action: 'retry',
      message: { state: 'queued', attempts: 1, max_attempts: 3 },
    });
    // The host's own dispatcher was poked by the retry: nothing else is due.
    expect((await arrival).key).toBe(message.idempotency_key);
    await deliverDue(gw);
    const after = (await gw.request('GET', `/v1/outbox/${message.id}`)).body as OutboxMessageDetail;
    expect(after.state).toBe('delivered');
    expect([...receiver.accepted.keys()]).toEqual([message.idempotency_key]);

    const again = await gw.request('POST', `/v1/outbox/${message.id}/retry`, { json: {} });
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('OUTBOX_ALREADY_DELIVERED');
    const admin = await gw.chain('outbox.admin');
    expect(admin.map((e) => [e.actor, e.data['action'], e.data['outcome']])).toEqual([
      ['admin', 'retry', 'done'],
      ['admin', 'retry', 'refused'],
    ]);
    expect(admin[0]?.correlation_id).toBe(retried.headers.get('x-correlation-id'));
  });

  it('discards a queued message, refuses bad ids and a prune shorter than a minute', async () => {
    const queued = await queueOnHost(gw, receiver.url, 'never mind');
    const discarded = await gw.request('POST', `/v1/outbox/${queued.id}/discard`);
    expect(discarded.status).toBe(200);
    expect(discarded.body).toEqual({ id: queued.id, action: 'discard', message: null });
    expect((await gw.request('GET', `/v1/outbox/${queued.id}`)).status).toBe(404);
    expect((await gw.request('GET', '/v1/outbox/not-an-id')).status).toBe(400);
    const short = await gw.request('POST', '/v1/outbox/prune', { json: { older_than: '30s' } });
    expect(errorOf(short).code).toBe('INVALID_INPUT');
    const weeks = await gw.request('POST', '/v1/outbox/prune', { json: { older_than: '2w' } });
    expect(weeks.status).toBe(400);
    const pruned = await gw.request('POST', '/v1/outbox/prune', { json: { older_than: '1m' } });
    expect(pruned.body).toEqual({ deleted: 0 });
  });

  it('answers a connector token (every scope) and an MCP client with 403, audited, and changes nothing', async () => {
    const message = await queueOnHost(gw, receiver.url, 'hold this one');
    const connector = await gw.connector('alpha', [
      'runs:create',
      'runs:read',
      'runs:cancel',
      'events:post',
    ]);
    const mcp = await gw.connector('ide', ['mcp']);
    const deniedBefore = (await gw.chain('auth.denied')).length;
    const adminBefore = (await gw.chain('outbox.admin')).length;
    const attempts: [string, string, unknown][] = [
      ['GET', '/v1/outbox', undefined],
      ['GET', `/v1/outbox/${message.id}`, undefined],
      ['POST', `/v1/outbox/${message.id}/retry`, {}],
      ['POST', `/v1/outbox/${message.id}/discard`, undefined],
      ['POST', '/v1/outbox/prune', { older_than: '1m' }],
    ];
    for (const token of [connector.token, mcp.token]) {
      for (const [method, path, json] of attempts) {
        const res = await gw.request(method, path, {
          token,
          ...(json === undefined ? {} : { json }),
        });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(errorOf(res).code).toBe('FORBIDDEN');
        expect(res.text).not.toContain('hold this one');
      }
    }
    for (const [method, path, json] of attempts) {
      const res = await gw.request(method, path, {
        token: null,
        ...(json === undefined ? {} : { json }),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await gw.chain('auth.denied')).length - deniedBefore).toBe(15);
    const still = (await gw.request('GET', `/v1/outbox/${message.id}`)).body as OutboxMessageDetail;
    expect(still.state).toBe('queued');
    expect(await gw.chain('outbox.admin')).toHaveLength(adminBefore);
  });
});
