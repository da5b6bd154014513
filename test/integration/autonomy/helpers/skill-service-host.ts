import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LlmLocation } from '../../../../contracts/llm.ts';
import type { PolicyPack } from '../../../../contracts/policy.ts';
import { makeTempDir, removeTempDir } from '../../../support/test-store.ts';
import type { RecordingServer } from '../../llm/recording-http-server.ts';
import { startAutonomyHost, type AutonomyHost } from './autonomy-host.ts';
import { startScriptedLlm } from './scripted-openai.ts';

/** A real host whose agents talk to a scripted LLM server, with one declarative skill installed. */
export type ScriptedSkillHost = {
  host: AutonomyHost;
  llm: RecordingServer;
  /** Stops the host and the LLM server and removes the skill's folder. */
  stop: () => Promise<void>;
};

export type ScriptedSkillHostOptions = {
  script: Parameters<typeof startScriptedLlm>[0];
  packs: readonly PolicyPack[];
  /** The skill's YAML (its `base_url` on loopback, which the host is told to allow). */
  skillYaml: string;
  /** Where the provider is declared to be; left out, the host's default. */
  location?: LlmLocation;
};

/**
 * The set-up of the label and taint tests: a scripted OpenAI-compatible server as the
 * provider, a host with no echo plugin that may reach loopback, and the skill installed.
 */
export async function startScriptedSkillHost(
  options: ScriptedSkillHostOptions,
): Promise<ScriptedSkillHost> {
  const llm = await startScriptedLlm(options.script);
  let host: AutonomyHost | undefined;
  let dir: string | undefined;
  const stop = async (): Promise<void> => {
    await host?.stop();
    await llm.close();
    if (dir !== undefined) await removeTempDir(dir);
  };
  try {
    host = await startAutonomyHost({
      transcript: { entries: [] },
      installEchoNotes: false,
      allowLoopbackHttp: true,
      packs: options.packs,
      llm: {
        kind: 'openai_compatible',
        base_url: `${llm.url}/v1`,
        model: 'fake-model',
        ...(options.location === undefined ? {} : { location: options.location }),
      },
    });
    dir = await makeTempDir('ccos-skill-service-');
    const file = path.join(dir, 'skill.yaml');
    await writeFile(file, options.skillYaml);
    await host.installSkill(file);
    return { host, llm, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
