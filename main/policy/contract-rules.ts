import type {
  ActivationRule,
  DestinationKind,
  EgressException,
  LabelRule,
} from '../../contracts/policy.ts';

const EVERY_DESTINATION: readonly DestinationKind[] = [
  'remote_llm',
  'local_llm',
  'network_egress',
  'outbound_connector',
  'memory',
];

/** Every personal-data atom: a rule over it covers `pii.redacted` below it too. */
const ALL_PII = ['pii.chat.message', 'pii.chat.metadata', 'pii.attachment'] as const;

/**
 * The chat security contract's label rules ("Egress (hard defaults)"): public data goes
 * anywhere; personal data stays on this machine (the local LLM, memory); the host's own
 * prompts and settings go to the models it was configured with and to memory; secrets go
 * nowhere (the constitution keeps them out of egress and memory, these rules out of prompts).
 * A pack without `label_rules` is held to these.
 */
export const CONTRACT_LABEL_RULES: readonly LabelRule[] = [
  ...EVERY_DESTINATION.map((destination): LabelRule => ({
    rule_id: `label.public_to_${destination}`,
    label: 'public',
    destination,
    effect: 'allow',
  })),
  {
    rule_id: 'label.pii_to_local_llm',
    label: [...ALL_PII],
    destination: 'local_llm',
    effect: 'allow',
  },
  { rule_id: 'label.pii_to_memory', label: [...ALL_PII], destination: 'memory', effect: 'allow' },
  {
    rule_id: 'label.internal_to_remote_llm',
    label: 'internal.system',
    destination: 'remote_llm',
    effect: 'allow',
  },
  {
    rule_id: 'label.internal_to_local_llm',
    label: 'internal.system',
    destination: 'local_llm',
    effect: 'allow',
  },
  {
    rule_id: 'label.internal_to_memory',
    label: 'internal.system',
    destination: 'memory',
    effect: 'allow',
  },
];

/**
 * The contract's one road out for personal data: `pii.redacted` (a transform's output) may go
 * to a remote LLM, the network or an outbound message, each time with a person's approval.
 */
export const CONTRACT_EGRESS_EXCEPTIONS: readonly EgressException[] = (
  ['remote_llm', 'network_egress', 'outbound_connector'] as const
).map((destination) => ({
  rule_id: `exception.redacted_to_${destination}`,
  label: 'pii.redacted',
  destination,
  needs_approval: true,
  reason: 'a redacted summary may leave once a person has seen it',
}));

/**
 * The contract's activation: a direct message wakes the agent; group channels need a mention
 * or keyword from an allowlisted sender, which only a deployment's own pack can list.
 */
export const CONTRACT_ACTIVATION_RULES: readonly ActivationRule[] = [
  { rule_id: 'activation.direct', effect: 'allow', match: { trigger: 'direct' } },
];
