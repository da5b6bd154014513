import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError } from '../errors.ts';
import { parseHostConfig } from '../config.ts';
import { userPath } from './cli-context.ts';
import { port } from './option-parsers.ts';

/** `ccos serve`: runs the host headless until SIGINT/SIGTERM, then stops it cleanly. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the host headless (gateway, runs, skills) until interrupted')
    .option('--host <address>', 'address the gateway binds (env CCOS_HOST, default 127.0.0.1)')
    .option(
      '--port <port>',
      'gateway port (env CCOS_PORT, default 7427; 0 picks a free one)',
      port(),
    )
    .option(
      '--allow-non-loopback',
      'allow binding an address other than loopback (exposes the API)',
    )
    .option(
      '--llm-settings <file>',
      'JSON file with the LLM provider settings (env CCOS_LLM_SETTINGS)',
    )
    .option(
      '--allow-loopback-skills',
      'let skills reach plain-http loopback origins (test servers)',
    )
    .option(
      '--unsafe-agents',
      "where no jail works, run agent workers under Node's permission model alone, which shares the host's network (env CCOS_UNSAFE_AGENTS=1)",
    )
    .option(
      '--policy-dir <dir>',
      "a folder of policy pack files (.yaml, .json) besides the data dir's policies/ (env CCOS_POLICY_DIR)",
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env CCOS_LOG_LEVEL)')
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<ServeOptions>();
      const llmFile = opts.llmSettings ?? process.env.CCOS_LLM_SETTINGS;
      const llm =
        llmFile === undefined ? undefined : await readJsonFile(userPath(llmFile), '--llm-settings');
      const config = parseHostConfig({
        agents: {
          ...(llm === undefined ? {} : { llm }),
          ...(opts.unsafeAgents === true ? { allow_unjailed: true } : {}),
        },
        ...(opts.allowLoopbackSkills === true ? { skills: { allow_loopback_http: true } } : {}),
        ...(opts.dataDir === undefined ? {} : { data_dir: userPath(opts.dataDir) }),
        ...(opts.logLevel === undefined ? {} : { log_level: opts.logLevel }),
        ...(opts.policyDir === undefined ? {} : { policy_dir: userPath(opts.policyDir) }),
        gateway: {
          ...(opts.host === undefined ? {} : { host: opts.host }),
          ...(opts.port === undefined ? {} : { port: opts.port }),
          allow_non_loopback: opts.allowNonLoopback === true,
        },
      });
      // Loaded here: every other verb is a small HTTP client and must start fast.
      const { Host } = await import('../host.ts');
      const host = new Host(config);
      const started = await host.start();
      // The person's way in: one link, usable once (`ccos open` prints another).
      console.log(`CCOS Gateway is running. Open the UI: ${started.loginLink().url}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await host.stop();
    });
}

type ServeOptions = {
  llmSettings?: string;
  policyDir?: string;
  allowLoopbackSkills?: boolean;
  dataDir?: string;
  host?: string;
  port?: number;
  allowNonLoopback?: boolean;
  logLevel?: string;
  unsafeAgents?: boolean;
};

async function readJsonFile(file: string, flag: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new AppError('INVALID_INPUT', `${flag}: cannot read ${file}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('INVALID_INPUT', `${flag}: ${file} is not valid JSON`);
  }
}
