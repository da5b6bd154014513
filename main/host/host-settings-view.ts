import type { AgentIsolationStatus } from '../../contracts/agent-isolation.ts';
import type { HostInfo, LlmTestResult } from '../../contracts/ui.ts';
import { testLlmConnection } from '../agent/llm/test-llm-connection.ts';
import type { HostConfig } from '../config.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { SecretStore } from '../policy/secret-store.ts';
import { HOST_VERSION } from '../version.ts';

export type HostSettingsParts = {
  config: HostConfig;
  policies: PolicyPacks;
  agents: AgentIsolationStatus;
  secrets: SecretStore;
  redactor: Redactor;
};

/** The host as the Settings page shows it, and its LLM test (null: no provider configured). */
export type HostSettingsView = {
  info: () => HostInfo;
  testLlm: () => Promise<LlmTestResult | null>;
};

/** What `GET /v1/host` answers and `POST /v1/host/llm-test` does, from the host's settings. */
export function hostSettingsView(parts: HostSettingsParts): HostSettingsView {
  const { config, policies, agents, secrets, redactor } = parts;
  const llmSettings = config.agents.llm;
  return {
    info: () => ({
      version: HOST_VERSION,
      data_dir: config.data_dir,
      llm:
        llmSettings === null
          ? null
          : {
              kind: llmSettings.kind,
              model: 'model' in llmSettings ? llmSettings.model : null,
            },
      policy_packs: policies
        .list()
        .filter((p) => p.source.kind !== 'pinned')
        .map((p) => p.id),
      isolation: {
        label:
          agents.status === 'jailed'
            ? `jailed (${agents.isolation})`
            : `${agents.status}: ${agents.reason ?? ''}${agents.fix === null ? '' : ` — ${agents.fix}`}`,
        // Only the jail is safe; an opted-in unjailed worker is shown in red.
        safe: agents.status === 'jailed',
      },
    }),
    testLlm: async () =>
      llmSettings === null
        ? null
        : testLlmConnection(llmSettings, {
            resolveSecret: (name) => secrets.reveal(name),
            redact: (text) => redactor.redactString(text),
          }),
  };
}
