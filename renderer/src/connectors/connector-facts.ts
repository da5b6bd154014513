import type {
  AdapterConfig,
  Connection,
  ConnectorErrorCategory,
  ConnectorHealth,
} from '../../../contracts/connector-adapter.ts';

type ConnectionState = Connection['state'];

/** Each failure category in plain words, with what the person can do about it. */
const CATEGORY_TEXT: Record<ConnectorErrorCategory, string> = {
  auth: 'Authentication failed: the secret or token does not match. Make a new secret and give it to the sender.',
  network: 'Cannot reach the other side: a network problem. It is retried; check the connection.',
  rate_limit: 'Rate limited: the other side asked to slow down. It is retried later.',
  invalid: 'Misconfigured: the configuration is not usable. Check it and save it again.',
};

/** A connector's health for a person: whether it works, and if not, why and what to do. */
export function healthText(health: ConnectorHealth): { ok: boolean; text: string } {
  if (health.ok) return { ok: true, text: 'Healthy: ready to receive messages.' };
  const why =
    health.category === null ? 'Not working (no reason given).' : CATEGORY_TEXT[health.category];
  return { ok: false, text: health.detail === null ? why : `${why} (${health.detail})` };
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  pending_approval: 'waiting for your approval',
  approved: 'active',
  denied: 'denied',
};

/** A channel connection's state in words. */
export function connectionText(state: ConnectionState): string {
  return CONNECTION_TEXT[state];
}

/** How a connector's senders prove themselves, in words. */
export function inboundAuthText(config: AdapterConfig): string {
  switch (config.inbound_auth.mode) {
    case 'hmac':
      return 'HMAC-signed requests';
    case 'bearer':
      return 'bearer token';
    case 'person':
      return 'your own session (local chat)';
  }
}

/** Whether a connector matches the page's search (its id, adapter or run goal; any case). */
export function matchesSearch(config: AdapterConfig, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === '') return true;
  return [config.connector_id, config.adapter, config.template.goal].some((field) =>
    field.toLowerCase().includes(needle),
  );
}

/** Which messages wake an agent, in words: direct ones always, group ones by the rules. */
export function activationText(rules: AdapterConfig['activation']): string {
  const by = [
    rules.mention_names.length === 0 ? null : `mention ${rules.mention_names.join(', ')}`,
    rules.keywords.length === 0 ? null : `contain ${rules.keywords.join(', ')}`,
  ].filter((part) => part !== null);
  if (by.length === 0 || rules.group_sender_allowlist.length === 0)
    return 'direct messages only (no group message can wake an agent)';
  return `direct messages, and group messages from ${rules.group_sender_allowlist.join(', ')} that ${by.join(' or ')}`;
}
