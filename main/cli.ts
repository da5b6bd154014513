#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './cli/admin-commands.ts';
import { registerRunCommands } from './cli/run-commands.ts';
import { registerServeCommand } from './cli/serve-command.ts';
import { registerSkillCommands } from './cli/skill-commands.ts';
import { isAppError } from './errors.ts';

/** Builds the `ccos` program; exported so tests can run verbs in-process. */
export function buildProgram(): Command {
  const program = new Command('ccos')
    .description('CCOS Gateway: supervise autonomous agents on this machine')
    .option('--data-dir <dir>', 'the host data dir (env CCOS_DATA_DIR, default ~/.ccos)')
    .option('--url <url>', 'gateway URL (env CCOS_URL; default: read from the data dir)')
    .option('--token-file <file>', 'admin token file (env CCOS_TOKEN holds the token itself)')
    .option('--json', 'print JSON instead of text')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerRunCommands(program);
  registerAdminCommands(program);
  registerSkillCommands(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isAppError(e)) {
      console.error(`ccos: ${e.message} [${e.code}]`);
      return 1;
    }
    console.error('ccos: unexpected error', e);
    return 70;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv);
