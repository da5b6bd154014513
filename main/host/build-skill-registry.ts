import type { Logger } from 'pino';
import type { ToolDefinition } from '../../contracts/skills.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { HostConfig } from '../config.ts';
import type { MemoryStore } from '../memory/memory-store.ts';
import { decide } from '../policy/decide.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { SecretStore } from '../policy/secret-store.ts';
import { skillAuditEntry } from '../skills/bindings/skill-audit.ts';
import { StoreSkillMemory } from '../skills/bindings/store-skill-memory.ts';
import { BUILTIN_TOOLS } from '../skills/manifest/builtin-tools.ts';
import { SEND_MESSAGE_BUILTIN_TOOL } from '../outbox/send-message-definition.ts';
import { REGISTERED_CAPABILITIES } from '../skills/manifest/capabilities.ts';
import { SkillRegistry } from '../skills/registry/skill-registry.ts';
import { IsolatedVmSandbox } from '../skills/sandbox/isolated-vm-sandbox.ts';

export type SkillRegistryParts = {
  config: HostConfig;
  chain: CausalChain;
  memory: MemoryStore;
  secrets: SecretStore;
  policies: PolicyPacks;
  logger: Logger;
  /** Names of the host's own secrets (its LLM key): no skill may load or receive them. */
  hostSecrets: ReadonlySet<string>;
  /** V8 lost control of an isolate: the host must stop (it has logged why). */
  onCatastrophicError: () => void;
};

/**
 * The host's built-in tools as the agent is offered them: the registry's own, and the
 * outbox's `ccos__send_message`, since the host always runs an outbox (issue 23).
 */
export const HOST_BUILTIN_TOOLS: readonly ToolDefinition[] = [
  ...BUILTIN_TOOLS,
  SEND_MESSAGE_BUILTIN_TOOL,
];

/** The one registry of loaded skills, its sandbox, and the host side of every `ccos.*` binding. */
export function buildSkillRegistry(parts: SkillRegistryParts): SkillRegistry {
  const { chain, logger, hostSecrets, secrets, policies } = parts;
  return new SkillRegistry({
    builtinTools: HOST_BUILTIN_TOOLS,
    sandbox: new IsolatedVmSandbox({
      onCatastrophicError: (skillId, message) => {
        // V8 lost control of an isolate: the process can no longer be trusted to contain it.
        logger.fatal({ skill_id: skillId, message }, 'isolate failure: stopping the host');
        parts.onCatastrophicError();
      },
    }),
    policy: {
      capabilities: REGISTERED_CAPABILITIES,
      allowLoopbackHttp: parts.config.skills.allow_loopback_http,
      reservedSecrets: hostSecrets,
    },
    host: {
      memory: new StoreSkillMemory({ chain, memory: parts.memory }),
      // A backstop to the load rule: a skill loaded before a setting reserved a name
      // still never receives the host's own key.
      secrets: (name) =>
        hostSecrets.has(name) ? Promise.resolve(undefined) : secrets.reveal(name),
      // Pack rules under the pack the call's run was created with (issue 22).
      decide: (envelope, request) =>
        decide(policies.atVersion(envelope.policy_pack_version), request),
      log: (entry) => {
        logger[entry.level]({ skill_id: entry.skill_id }, entry.message);
      },
      // Awaited, never best-effort: a binding whose entry cannot be committed fails, and a
      // request whose `egress.attempt` cannot be committed is not sent.
      audit: async (event) => {
        const entry = skillAuditEntry(event);
        if (entry !== undefined) await chain.append(entry);
      },
    },
  });
}
