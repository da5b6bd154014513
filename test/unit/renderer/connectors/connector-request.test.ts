import { describe, expect, it } from 'vitest';
import { adapterConfigInputSchema } from '../../../../contracts/connector-adapter.ts';
import {
  connectorRequest,
  EMPTY_CONNECTOR_FORM,
  listOf,
  sameConfigInput,
} from '../../../../renderer/src/connectors/connector-request.ts';

const filled = { ...EMPTY_CONNECTOR_FORM, id: 'hook', goal: 'Answer the message' };

describe("the add-a-connector form's request", () => {
  it('builds the contract body for a webhook: its proof, activation lists and template', () => {
    const request = connectorRequest({
      ...filled,
      auth: 'bearer',
      mentionNames: ' ccos, bot ,',
      keywords: 'help',
      groupSenders: 'alice,,bob',
      policyPack: 'default',
    });
    expect(request).toEqual({
      ok: true,
      id: 'hook',
      body: {
        adapter: 'webhook',
        inbound_auth: { mode: 'bearer' },
        activation: {
          mention_names: ['ccos', 'bot'],
          keywords: ['help'],
          group_sender_allowlist: ['alice', 'bob'],
        },
        template: { goal: 'Answer the message', policy_pack: 'default' },
      },
    });
  });

  it("proves the local chat by the person's session whatever the webhook proof field holds", () => {
    const request = connectorRequest({ ...filled, adapter: 'local_chat', auth: 'hmac' });
    expect(request.ok && request.body.inbound_auth).toEqual({ mode: 'person' });
  });

  it('leaves the pack out when none is named, so the host picks the record’s first', () => {
    const request = connectorRequest(filled);
    expect(request.ok && request.body.template).toEqual({ goal: 'Answer the message' });
  });

  it('refuses what the host would refuse, naming each field, before anything is sent', () => {
    const request = connectorRequest({ ...EMPTY_CONNECTOR_FORM, id: 'Bad Id!', goal: '  ' });
    expect(request.ok).toBe(false);
    const problems = request.ok ? [] : request.problems;
    expect(problems.some((p) => p.startsWith('id: lowercase letters'))).toBe(true);
    expect(problems.some((p) => p.startsWith('template.goal: '))).toBe(true);
  });

  it('refuses an id the host would take as a path (no slash, no dots)', () => {
    for (const id of ['../x', 'a/b', '', '-x'])
      expect(connectorRequest({ ...filled, id }).ok, id).toBe(false);
  });

  it('refuses too many activation names, as the contract caps them', () => {
    const names = Array.from({ length: 21 }, (_, i) => `n${i}`).join(',');
    const request = connectorRequest({ ...filled, mentionNames: names });
    expect(request.ok ? [] : request.problems).toEqual([
      expect.stringMatching(/^activation\.mention_names: /),
    ]);
  });

  it('splits list fields on commas and drops blanks', () => {
    expect(listOf(' a, b,,c ,')).toEqual(['a', 'b', 'c']);
    expect(listOf('')).toEqual([]);
  });
});

describe('the rotate request', () => {
  it('keeps every rule of the shown configuration and drops the host’s own fields', () => {
    const shown = {
      connector_id: 'hook',
      adapter: 'webhook' as const,
      version: 1 as const,
      inbound_auth: { mode: 'hmac' as const, replay_window_ms: 60_000 },
      activation: { mention_names: ['ccos'], keywords: ['help'], group_sender_allowlist: ['a'] },
      template: { goal: 'Answer', policy_pack: 'default', budget: { max_steps: 5 } },
      max_payload_bytes: 4096,
      secret_name: 'CONNECTOR_HOOK_SECRET',
      created_at: '2026-12-03T00:00:00.000Z',
      updated_at: '2026-12-03T00:00:00.000Z',
    };
    const input = sameConfigInput(shown);
    expect(input).toEqual({
      adapter: 'webhook',
      version: 1,
      inbound_auth: { mode: 'hmac', replay_window_ms: 60_000 },
      activation: shown.activation,
      template: shown.template,
      max_payload_bytes: 4096,
    });
    // The host's strict schema takes it as it is.
    expect(adapterConfigInputSchema.safeParse(input).success).toBe(true);
  });
});
