import {
  adapterConfigInputSchema,
  type AdapterConfig,
  type AdapterConfigInput,
  type AdapterKind,
} from '../../../contracts/connector-adapter.ts';
import { connectorIdSchema } from '../../../contracts/tokens.ts';

/** What the add-a-connector form holds, as typed: lists are comma-separated text. */
export type ConnectorFormFields = {
  id: string;
  adapter: AdapterKind;
  /** The webhook's inbound proof; the local chat is always proven by the person's session. */
  auth: 'hmac' | 'bearer';
  goal: string;
  mentionNames: string;
  keywords: string;
  groupSenders: string;
  /** Empty: the first of the connector record's packs. */
  policyPack: string;
};

export const EMPTY_CONNECTOR_FORM: ConnectorFormFields = {
  id: '',
  adapter: 'webhook',
  auth: 'hmac',
  goal: '',
  mentionNames: '',
  keywords: '',
  groupSenders: '',
  policyPack: '',
};

/** The `putConnectorAdapter` call the form asks for, or every problem as `field: message`. */
export type ConnectorRequest =
  { ok: true; id: string; body: AdapterConfigInput } | { ok: false; problems: string[] };

/** "a, b,,c " → ["a", "b", "c"]: the form's list fields. */
export function listOf(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * Turns the form into the contract's request, checked by the contract's own schemas, so the
 * page refuses what the host would refuse and says why before anything is sent.
 */
export function connectorRequest(fields: ConnectorFormFields): ConnectorRequest {
  const problems: string[] = [];
  const id = connectorIdSchema.safeParse(fields.id.trim());
  if (!id.success) problems.push(...id.error.issues.map((i) => `id: ${i.message}`));
  const pack = fields.policyPack.trim();
  const body: AdapterConfigInput = {
    adapter: fields.adapter,
    inbound_auth: fields.adapter === 'local_chat' ? { mode: 'person' } : { mode: fields.auth },
    activation: {
      mention_names: listOf(fields.mentionNames),
      keywords: listOf(fields.keywords),
      group_sender_allowlist: listOf(fields.groupSenders),
    },
    template: { goal: fields.goal.trim(), ...(pack === '' ? {} : { policy_pack: pack }) },
  };
  const parsed = adapterConfigInputSchema.safeParse(body);
  if (!parsed.success)
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  if (problems.length > 0 || !id.success) return { ok: false, problems };
  return { ok: true, id: id.data, body };
}

/**
 * The request that keeps a connector's configuration as it is shown (for `?rotate=true`):
 * the stored fields without the host's own (id, secret name, times), so rotating a secret
 * never changes a rule on the way.
 */
export function sameConfigInput(config: AdapterConfig): AdapterConfigInput {
  return {
    adapter: config.adapter,
    version: config.version,
    inbound_auth: config.inbound_auth,
    activation: config.activation,
    template: config.template,
    max_payload_bytes: config.max_payload_bytes,
  };
}
