#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerServeCommand } from './cli/serve-command.ts';
import { isAppError } from './errors.ts';

/** Builds the `ccos` program; exported so tests can run verbs in-process. */
export function buildProgram(): Command {
  const program = new Command('ccos')
    .description('CCOS Gateway: supervise autonomous agents on this machine')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
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
