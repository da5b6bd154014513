import { describe, expect, it } from 'vitest';
import type { AdapterConfig } from '../../../../contracts/connector-adapter.ts';
import {
  activationText,
  connectionText,
  healthText,
  inboundAuthText,
  matchesSearch,
} from '../../../../renderer/src/connectors/connector-facts.ts';

const config: AdapterConfig = {
  connector_id: 'hook',
  adapter: 'webhook',
  version: 1,
  inbound_auth: { mode: 'hmac', replay_window_ms: 300_000 },
  activation: { mention_names: [], keywords: [], group_sender_allowlist: [] },
  template: { goal: 'Answer the Message' },
  max_payload_bytes: 65_536,
  secret_name: 'CONNECTOR_HOOK_SECRET',
  created_at: '2026-12-03T00:00:00.000Z',
  updated_at: '2026-12-03T00:00:00.000Z',
};

describe("the Connectors page's facts", () => {
  it('says plainly why a connector fails, by category, with the adapter’s detail', () => {
    const auth = healthText({ ok: false, category: 'auth', detail: 'token refused' });
    expect(auth.ok).toBe(false);
    expect(auth.text).toMatch(/^Authentication failed: .*\(token refused\)$/);
    expect(healthText({ ok: false, category: 'network', detail: null }).text).toMatch(
      /^Cannot reach/,
    );
    expect(healthText({ ok: false, category: 'rate_limit', detail: null }).text).toMatch(
      /^Rate limited/,
    );
    expect(healthText({ ok: false, category: 'invalid', detail: null }).text).toMatch(
      /^Misconfigured/,
    );
    expect(healthText({ ok: false, category: null, detail: null }).text).toMatch(/no reason/);
    expect(healthText({ ok: true, category: null, detail: null })).toEqual({
      ok: true,
      text: 'Healthy: ready to receive messages.',
    });
  });

  it('names a connection’s state as the person acts on it', () => {
    expect(connectionText('pending_approval')).toBe('waiting for your approval');
    expect(connectionText('approved')).toBe('active');
    expect(connectionText('denied')).toBe('denied');
  });

  it('names each inbound proof', () => {
    expect(inboundAuthText(config)).toBe('HMAC-signed requests');
    expect(inboundAuthText({ ...config, inbound_auth: { mode: 'bearer' } })).toBe('bearer token');
    expect(inboundAuthText({ ...config, inbound_auth: { mode: 'person' } })).toMatch(/local chat/);
  });

  it('searches id, adapter and goal, ignoring case and blanks', () => {
    expect(matchesSearch(config, '  ')).toBe(true);
    expect(matchesSearch(config, 'HOO')).toBe(true);
    expect(matchesSearch(config, 'webhook')).toBe(true);
    expect(matchesSearch(config, 'message')).toBe(true);
    expect(matchesSearch(config, 'local')).toBe(false);
  });

  it('says which messages wake an agent: a group one only from an allowed sender, by a rule', () => {
    const none = { mention_names: [], keywords: [], group_sender_allowlist: [] };
    expect(activationText(none)).toMatch(/^direct messages only/);
    // Names without allowed senders still wake nobody in a group (the host's rule).
    expect(activationText({ ...none, mention_names: ['ccos'] })).toMatch(/^direct messages only/);
    expect(
      activationText({
        mention_names: ['ccos'],
        keywords: ['help'],
        group_sender_allowlist: ['alice'],
      }),
    ).toBe('direct messages, and group messages from alice that mention ccos or contain help');
  });
});
