import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { OutboxService } from '../../../main/outbox/outbox-service.ts';
import { WebhookTransport } from '../../../main/outbox/webhook-transport.ts';
import { label, PUBLIC, type Label } from '../../../main/policy/labels.ts';
import { manualClock, openTestServices, type TestServices } from '../../support/test-store.ts';

describe('the outbound gate refuses before anything is queued (issue 23)', () => {
  let services: TestServices;
  let outbox: OutboxService;
  let pokes = 0;
  const clock = manualClock('2026-12-03T10:00:00.000Z');

  beforeEach(async () => {
    services = await openTestServices({ clock });
    const transport = new WebhookTransport({
      urlFor: () => 'http://127.0.0.1:9/hook',
      allowLoopbackHttp: true,
      timeoutMs: 1000,
      clock,
    });
    pokes = 0;
    outbox = new OutboxService({
      clock,
      redactor: services.host.started.redactor,
      transports: (id) => (id === 'hook' ? transport : undefined),
      queued: () => {
        pokes += 1;
      },
    });
  });
  afterEach(async () => {
    await services.close();
  });

  function send(text: string, l: Label, connector = 'hook') {
    return services.chain.transact((tx) =>
      outbox.sendIn(tx, {
        connector_id: connector,
        channel_id: 'ch-1',
        content: { text },
        label: l,
        run_id: null,
        step_id: null,
        session_id: null,
        actor: 'agent:test',
        max_attempts: 3,
      }),
    );
  }

  async function refusals(): Promise<(string | null)[]> {
    const { entries } = await services.chain.query({ limit: 1000 });
    return entries.filter((e) => e.event_type === 'policy.decision').map((e) => e.rule_id);
  }

  async function queuedCount(): Promise<number> {
    return (await services.store.db.selectFrom('outbox').select('id').execute()).length;
  }

  it('queues public and pii.redacted content and pokes the dispatcher after commit', async () => {
    expect((await send('all green', PUBLIC)).ok).toBe(true);
    expect((await send('a summary', label('pii.redacted'))).ok).toBe(true);
    expect(await queuedCount()).toBe(2);
    expect(pokes).toBe(2);
  });

  it.each([
    ['pii.chat.message'],
    ['pii.chat.metadata'],
    ['pii.attachment'],
    ['secret.token'],
    ['internal.system'],
  ] as const)('refuses content derived from %s with egress.label, on the chain', async (atom) => {
    const result = await send('what they wrote', label(atom));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(isAppError(result.error, 'OUTBOUND_DENIED')).toBe(true);
    expect(await refusals()).toEqual(['egress.label']);
    expect(await queuedCount()).toBe(0);
    expect(pokes).toBe(0);
  });

  it('refuses a known secret or a credential pattern even in content labelled public', async () => {
    const secret = 'hunter2-very-secret-value';
    const handle = services.host.started.redactor.addKnownValue(secret);
    try {
      expect((await send(`the key is ${secret}`, PUBLIC)).ok).toBe(false);
      expect((await send('use Bearer abcdefghijklmnop1234', PUBLIC)).ok).toBe(false);
    } finally {
      handle.dispose();
    }
    expect(await refusals()).toEqual(['egress.secret', 'egress.secret']);
    expect(await queuedCount()).toBe(0);
  });

  it('refuses a connector that cannot send with egress.channel', async () => {
    expect((await send('hello', PUBLIC, 'nowhere')).ok).toBe(false);
    expect(await refusals()).toEqual(['egress.channel']);
  });
});
