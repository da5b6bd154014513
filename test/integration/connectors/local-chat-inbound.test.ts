import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { InboundResult } from '../../../contracts/connector-adapter.ts';
import { messageEnvelopeSchema } from '../../../contracts/message-envelope.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

/**
 * Issue 23, the local chat: the person's messages are `trusted` for integrity but labelled
 * and quarantined like any channel's, under the same channel approval; the network cannot
 * speak as the person through the connector's inbound endpoint.
 */
describe('local chat connector inbound', () => {
  let gw: GatewayTestHost;

  beforeAll(async () => {
    gw = await startGatewayHost();
    const put = await gw.request('PUT', '/v1/connectors/local-chat/adapter', {
      json: {
        adapter: 'local_chat',
        inbound_auth: { mode: 'person' },
        template: { goal: 'Help the person' },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ secret: null, config: { secret_name: null } });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('labels the envelope per field, trusted, with the text in quarantine', async () => {
    const first = await gw.request('POST', '/v1/chat/messages', {
      json: { id: 'ui-1', text: 'please summarise my week' },
    });
    expect(first.status).toBe(202);
    expect((first.body as InboundResult).outcome).toBe('waiting_channel_approval');
    const list = (await gw.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    const ap = list.approvals.find((a) => a.kind === 'channel' && a.scope === 'local-chat/local');
    await gw.request('POST', `/v1/approvals/${ap?.id ?? ''}`, { json: { decision: 'approve' } });
    const row = await gw.started.store.db
      .selectFrom('connector_messages')
      .select(['envelope', 'state', 'run_id'])
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('routed');
    const envelope = messageEnvelopeSchema.parse(JSON.parse(row.envelope));
    expect(envelope).toMatchObject({
      sender_id: 'person',
      taint: 'trusted',
      direction: 'inbound',
      activation: { activated: true, reason: 'direct' },
      labels: {
        content: 'pii.chat.message',
        attachments: 'pii.attachment',
        sender_id: 'pii.chat.metadata',
        channel_id: 'pii.chat.metadata',
        timestamp: 'pii.chat.metadata',
      },
    });
    expect(JSON.stringify(envelope)).not.toContain('summarise');
    const ingest = (await gw.chain('message.ingest')).at(-1);
    expect(ingest?.data).toMatchObject({
      content_ref: envelope.content_ref,
      label: 'pii.chat.message',
    });
    // The blob keeps the person's integrity, so a summary of it is theirs too.
    const blob = await gw.started.store.db
      .selectFrom('quarantine')
      .select('taint')
      .where('pointer', '=', envelope.content_ref)
      .executeTakeFirstOrThrow();
    expect(blob.taint).toBe('trusted');
  });

  it('refuses the local chat over the inbound endpoint and a non-admin token', async () => {
    const forged = await gw.request('POST', '/v1/connectors/local-chat/inbound', {
      token: null,
      json: { id: 'x', channel_id: 'local', chat_type: 'direct', sender_id: 'person', text: 'hi' },
    });
    expect(forged.status).toBe(401);
    expect((await gw.chain('message.rejected')).at(-1)?.rule_id).toBe('connector.missing_proof');
    const { token } = await gw.connector('other', ['runs:create']);
    const asConnector = await gw.request('POST', '/v1/chat/messages', {
      token,
      json: { id: 'ui-2', text: 'hi' },
    });
    expect(asConnector.status).toBe(403);
  });
});
