import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { llmProviderSettingsSchema } from '../contracts/llm.ts';
import { invalidInput } from './errors.ts';

export const DEFAULT_GATEWAY_PORT = 7427;

/** Host configuration: from CLI flags and `CCOS_*` environment variables, parsed once. */
/** Pre-started agent workers by default: enough to hide a start-up, few enough to idle cheaply. */
export const DEFAULT_WORKER_POOL_SIZE = 2;
/** Each idle worker holds a Node process (~50 MB); more than this is a mistake, not a setting. */
const MAX_WORKER_POOL_SIZE = 16;

export const hostConfigSchema = z.strictObject({
  /** Where the database, the admin token and logs live. Default `~/.ccos`. */
  data_dir: z.string().min(1),
  gateway: z.strictObject({
    host: z.string().min(1),
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65_535),
    /** Binding anything but loopback exposes the API to the network; it must be asked for. */
    allow_non_loopback: z.boolean(),
    /**
     * Diagnostics: a folder where the gateway notes each (operation, status) pair it answers
     * (env `CCOS_API_STATUS_LOG_DIR`). The test suite uses it to check that the OpenAPI
     * document describes every status; null (the default) records nothing.
     */
    status_log_dir: z.string().min(1).nullable(),
  }),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /**
   * A folder of policy pack files (`--policy-dir`, env `CCOS_POLICY_DIR`) read besides the data
   * dir's `policies/`; it must exist. Null: the data dir's folder alone.
   */
  policy_dir: z.string().min(1).nullable(),
  skills: z.strictObject({
    /**
     * Let skills declare plain-http loopback origins (local test servers). Off by default:
     * a skill reaching 127.0.0.1 could talk to other local services.
     */
    allow_loopback_http: z.boolean(),
  }),
  agents: z.strictObject({
    /** The LLM workers talk to (through the gateway). Null: runs wait until one is configured. */
    llm: llmProviderSettingsSchema.nullable(),
    /** Segments running at once. */
    max_concurrent: z.number().int().min(1).max(64),
    /**
     * Run agent workers without the jail when none works on this machine (`--unsafe-agents`,
     * env `CCOS_UNSAFE_AGENTS=1`): under Node's permission model alone, which shares the
     * host's network and signals. Off by default: then no jail means no agents.
     */
    allow_unjailed: z.boolean(),
    /**
     * The bubblewrap program (env `CCOS_BWRAP`): a name looked up in PATH, or an absolute
     * path to pin exactly which program builds the jail.
     */
    bwrap: z.string().min(1),
    /**
     * Agent workers kept started and waiting for a segment (env `CCOS_WORKER_POOL_SIZE`,
     * default 2; 0 disables): each serves one segment of one run, then is disposed.
     */
    worker_pool_size: z.number().int().min(0).max(MAX_WORKER_POOL_SIZE),
  }),
});
export type HostConfig = z.infer<typeof hostConfigSchema>;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CCOS_DATA_DIR ?? path.join(os.homedir(), '.ccos');
}

/** Builds a config from partial input, environment and defaults; INVALID_INPUT lists each field. */
export function parseHostConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): HostConfig {
  const partial = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  const gateway = (partial.gateway ?? {}) as Record<string, unknown>;
  const agents = (partial.agents ?? {}) as Record<string, unknown>;
  const envPort = env.CCOS_PORT === undefined ? undefined : Number(env.CCOS_PORT);
  const result = hostConfigSchema.safeParse({
    data_dir: partial.data_dir ?? defaultDataDir(env),
    gateway: {
      host: gateway.host ?? env.CCOS_HOST ?? '127.0.0.1',
      port: gateway.port ?? envPort ?? DEFAULT_GATEWAY_PORT,
      allow_non_loopback: gateway.allow_non_loopback ?? false,
      status_log_dir: gateway.status_log_dir ?? env.CCOS_API_STATUS_LOG_DIR ?? null,
    },
    log_level: partial.log_level ?? env.CCOS_LOG_LEVEL ?? 'info',
    policy_dir: partial.policy_dir ?? env.CCOS_POLICY_DIR ?? null,
    agents: {
      llm: agents.llm ?? null,
      max_concurrent:
        agents.max_concurrent ??
        (env.CCOS_MAX_CONCURRENT_AGENTS === undefined ? 4 : Number(env.CCOS_MAX_CONCURRENT_AGENTS)),
      allow_unjailed: agents.allow_unjailed ?? env.CCOS_UNSAFE_AGENTS === '1',
      bwrap: agents.bwrap ?? env.CCOS_BWRAP ?? 'bwrap',
      worker_pool_size:
        agents.worker_pool_size ??
        (env.CCOS_WORKER_POOL_SIZE === undefined
          ? DEFAULT_WORKER_POOL_SIZE
          : Number(env.CCOS_WORKER_POOL_SIZE)),
    },
    skills: {
      allow_loopback_http:
        (partial.skills as { allow_loopback_http?: unknown } | undefined)?.allow_loopback_http ??
        env.CCOS_SKILLS_ALLOW_LOOPBACK === '1',
    },
  });
  if (!result.success) throw invalidInput('configuration', result.error.issues);
  return result.data;
}
