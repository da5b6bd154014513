import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { enqueueIn } from '../../../main/outbox/outbox-store.ts';
import { SEND_MESSAGE_TOOL } from '../../../main/outbox/send-message-definition.ts';
import { PUBLIC } from '../../../main/policy/labels.ts';
import {
  apiRequester,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';
import { startOutboxReceiver, type OutboxReceiver } from '../../support/outbox-receiver.ts';
import { testHostEnv } from '../../support/test-host-env.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { readFile } from 'node:fs/promises';
import { rejectionOf } from '../../support/llm-test-kit.ts';

const OK = { status: 200 } as const;

/** A webhook connector's adapter configuration, posting its outbound messages to `url`. */
function webhookConfig(url?: string): Record<string, unknown> {
  return {
    adapter: 'webhook',
    inbound_auth: { mode: 'hmac' },
    template: { goal: 'Answer the message' },
    ...(url === undefined ? {} : { outbound_url: url }),
  };
}

/** The outbox running in a real host (issue 23): an agent's send reaches a real receiver. */
describe('the outbox in the host', () => {
  let h: AutonomyHost | undefined;
  let receiver: OutboxReceiver | undefined;
  afterEach(async () => {
    receiver?.releaseHanging();
    await h?.stop();
    await receiver?.close();
    h = undefined;
    receiver = undefined;
  });

  it('an agent’s ccos__send_message reaches the webhook’s receiver once, with its Idempotency-Key, audited', async () => {
    receiver = await startOutboxReceiver(() => OK);
    h = await startAutonomyHost({
      installEchoNotes: false,
      allowLoopbackHttp: true,
      transcript: {
        entries: [
          callEntry('c1', SEND_MESSAGE_TOOL, {
            connector_id: 'hook',
            channel_id: 'ch-1',
            text: 'the build is green',
          }),
          doneEntry(),
        ],
      },
    });
    const put = await h.request('PUT', '/v1/connectors/hook/adapter', webhookConfig(receiver.url));
    expect(put.status).toBe(200);
    const arrived = receiver.nextRequest();
    const run = await h.createRun({ goal: 'tell the channel the build is green' });
    const request = await arrived;
    const delivered = await h.waitForEntry(
      (e) => e.event_type === 'outbound.attempt' && e.data.outcome === 'delivered',
    );
    expect((await h.settle(run.id)).state).toBe('done');

    expect(receiver.requests).toHaveLength(1);
    expect(request.key).toMatch(/^ccos:/);
    expect(request.body).toMatchObject({
      channel_id: 'ch-1',
      text: 'the build is green',
      idempotency_key: request.key,
    });
    expect(delivered.run_id).toBe(run.id);
    const egress = await h.runChain(run.id, 'egress.attempt');
    expect(egress.map((e) => e.data)).toEqual([
      expect.objectContaining({ origin: new URL(receiver.url).origin, outcome: 'attempted' }),
    ]);
    const queued = await h.runChain(run.id, 'outbox.queued');
    expect(queued).toHaveLength(1);
  });

  it('a webhook without an outbound URL cannot send: refused with egress.channel, nothing queued', async () => {
    h = await startAutonomyHost({
      installEchoNotes: false,
      transcript: {
        entries: [
          callEntry('c1', SEND_MESSAGE_TOOL, {
            connector_id: 'mute',
            channel_id: 'ch-1',
            text: 'hello',
          }),
          doneEntry(),
        ],
      },
    });
    expect((await h.request('PUT', '/v1/connectors/mute/adapter', webhookConfig())).status).toBe(
      200,
    );
    const run = await h.createRun({ goal: 'say hello' });
    await h.settle(run.id);
    const decisions = (await h.runChain(run.id, 'policy.decision')).filter(
      (e: ChainEntry) => e.data.action === 'outbound.send',
    );
    expect(decisions.map((e) => e.rule_id)).toEqual(['egress.channel']);
    expect(await h.started.store.db.selectFrom('outbox').select('id').execute()).toEqual([]);
  });

  it('refuses outbound URLs the egress rule refuses, and one on a local chat', async () => {
    h = await startAutonomyHost({ installEchoNotes: false, transcript: { entries: [] } });
    for (const [id, body] of [
      ['plain', webhookConfig('http://example.com/hook')],
      ['loop', webhookConfig('http://127.0.0.1:9/hook')], // loopback http not allowed here
      ['creds', webhookConfig('https://user:pw@example.com/hook')],
      ['ftp', webhookConfig('ftp://example.com/hook')],
      [
        'chat',
        {
          adapter: 'local_chat',
          inbound_auth: { mode: 'person' },
          template: { goal: 'Answer' },
          outbound_url: 'https://example.com/hook',
        },
      ],
    ] as const) {
      const res = await h.request('PUT', `/v1/connectors/${id}/adapter`, body);
      expect(res.status, id).toBe(400);
      expect(res.text, id).toMatch(/CONNECTOR_INVALID|INVALID_INPUT/);
    }
    expect(
      (
        await h.request(
          'PUT',
          '/v1/connectors/good/adapter',
          webhookConfig('https://example.com/hook'),
        )
      ).status,
    ).toBe(200);
  });
});

describe('the outbox across a restart', () => {
  let dataDir: string | undefined;
  let host: Host | undefined;
  let receiver: OutboxReceiver | undefined;
  afterEach(async () => {
    await host?.stop();
    await receiver?.close();
    if (dataDir !== undefined) await removeTempDir(dataDir);
    host = dataDir = receiver = undefined;
  });

  async function startHost(dir: string): Promise<StartedHost> {
    host = new Host(
      parseHostConfig(
        {
          data_dir: dir,
          log_level: 'silent',
          gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
          skills: { allow_loopback_http: true },
        },
        testHostEnv(),
      ),
      { logger: pino({ level: 'silent' }), rendererDir: null },
    );
    return host.start();
  }

  it('delivers at start a row a previous host queued but never sent', async () => {
    receiver = await startOutboxReceiver(() => OK);
    dataDir = await makeTempDir('ccos-outbox-restart-');
    const first = await startHost(dataDir);
    const admin = (await readFile(first.adminTokenFile, 'utf8')).trim();
    const put = await apiRequester(first.gateway.url, admin)(
      'PUT',
      '/v1/connectors/hook/adapter',
      webhookConfig(receiver.url),
    );
    expect(put.status).toBe(200);
    // Committed and never dispatched: the window between a step's commit and the delivery
    // that a host dying there leaves behind.
    const row = await first.chain.transact((tx) =>
      enqueueIn(tx, {
        connector_id: 'hook',
        channel_id: 'ch-1',
        content: { text: 'left behind' },
        label: PUBLIC,
        run_id: null,
        step_id: null,
        session_id: null,
        max_attempts: 8,
        actor: 'test',
        now: new Date(),
      }),
    );
    await host?.stop();
    expect(receiver.requests).toEqual([]);

    const arrived = receiver.nextRequest();
    const second = await startHost(dataDir);
    const request = await arrived;
    expect(request.key).toBe(row.idempotency_key);
    expect(request.body).toMatchObject({ id: row.id, text: 'left behind' });
    // The pass the start began settles the attempt before it ends.
    await second.outbox.dispatcher.runDue();
    const settled = await second.store.db
      .selectFrom('outbox')
      .select('state')
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(settled.state).toBe('delivered');
    expect(receiver.requests).toHaveLength(1);
  });

  it('an adapter’s send goes through the same gate: a credential or a header-breaking key is refused', async () => {
    receiver = await startOutboxReceiver(() => OK);
    dataDir = await makeTempDir('ccos-outbox-queue-');
    const started = await startHost(dataDir);
    const admin = (await readFile(started.adminTokenFile, 'utf8')).trim();
    await apiRequester(started.gateway.url, admin)(
      'PUT',
      '/v1/connectors/hook/adapter',
      webhookConfig(receiver.url),
    );
    const message = {
      connector_id: 'hook',
      channel_id: 'ch-1',
      content: 'the build is green',
      content_label: [],
      reply_to: null,
      idempotency_key: 'adapter-send-0001',
    };
    const secret = await rejectionOf(
      started.outbox.queue.enqueue({
        ...message,
        content: 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        idempotency_key: 'adapter-send-0002',
      }),
    );
    expect(secret).toMatchObject({ code: 'OUTBOUND_DENIED' });
    const header = await rejectionOf(
      started.outbox.queue.enqueue({ ...message, idempotency_key: 'key\r\nx-evil: 1' }),
    );
    expect(header).toMatchObject({ code: 'INVALID_INPUT' });
    const refusals = await started.chain.query({ event_type: 'policy.decision', limit: 100 });
    expect(refusals.entries.map((e) => e.rule_id)).toContain('egress.secret');

    const arrived = receiver.nextRequest();
    const queued = await started.outbox.queue.enqueue(message);
    expect((await arrived).key).toBe('adapter-send-0001');
    await started.outbox.dispatcher.runDue();
    expect(receiver.requests).toHaveLength(1);
    const rows = await started.store.db.selectFrom('outbox').select(['id', 'state']).execute();
    expect(rows).toEqual([{ id: queued.id, state: 'delivered' }]);
  });
});
