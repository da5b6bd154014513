import type { PolicyPack } from '../../contracts/policy.ts';
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';

/**
 * A pack that asks about no capability, for tests of what happens after the gate (the HTTP
 * executor, onboarding, redaction). The default pack asks before every net.http and
 * memory.write operation whatever its manifest says (the pack is the approval floor).
 */
export const NO_OPERATION_APPROVALS: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'no-operation-approvals',
  approval_capabilities: [],
  // Nor about the labels and taint of the answer that asked (issue 22): tests of those rules
  // name a pack that keeps them.
  taint_gate: 'off',
  egress_label: 'off',
};

/**
 * For MCP tests of what happens after the label and taint rules (issue 22): the client's
 * context is trusted, and it is shown every `pii.*` label — the bundled echo-notes declares no
 * output label, so its results count as unknown personal data, withheld from an MCP client by
 * the default pack. Tests of those rules (`mcp-labels.test.ts`) name packs that keep them.
 */
export const MCP_TRUSTED_CLIENT: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'mcp-trusted-client',
  mcp_client_taint: 'trusted',
  mcp_client_labels: ['pii.redacted', 'pii.chat.message', 'pii.chat.metadata', 'pii.attachment'],
};
