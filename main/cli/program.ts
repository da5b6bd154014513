import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './admin-commands.ts';
import { registerAgentCommands } from './agent-commands.ts';
import { EXIT, EXIT_HELP, exitCodeOf } from './exit-codes.ts';
import { registerGrantCommands } from './grant-commands.ts';
import { registerInspectCommands } from './inspect-commands.ts';
import { registerOpenCommand } from './open-command.ts';
import { registerMcpCommands } from './mcp-commands.ts';
import { registerPolicyCommands } from './policy-commands.ts';
import { registerMemoryCommands } from './memory-commands.ts';
import { registerRunCommands } from './run-commands.ts';
import { registerScheduleCommands } from './schedule-commands.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerSkillCommands } from './skill-commands.ts';
// --- inbound connectors (issue 23) ---
import { registerConnectorCommands } from './connector-commands.ts';
// --- outbox admin (issue 23) ---
import { registerOutboxCommands } from './outbox-commands.ts';
import { isAppError } from '../errors.ts';

/** Builds the `ccos` program; exported so tests can run verbs in-process. */
export function buildProgram(): Command {
  const program = new Command('ccos')
    .description('CCOS Gateway: supervise autonomous agents on this machine')
    .option('--data-dir <dir>', 'the host data dir (env CCOS_DATA_DIR, default ~/.ccos)')
    .option('--url <url>', 'gateway URL (env CCOS_URL; default: read from the data dir)')
    .option('--token-file <file>', 'admin token file (env CCOS_TOKEN holds the token itself)')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `\n${EXIT_HELP}`)
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerRunCommands(program);
  registerAdminCommands(program);
  registerGrantCommands(program);
  registerAgentCommands(program);
  // Adds verbs to the `runs` and `chain` groups registered above.
  registerInspectCommands(program);
  registerSkillCommands(program);
  registerMcpCommands(program);
  registerScheduleCommands(program);
  registerPolicyCommands(program);
  registerMemoryCommands(program);
  // --- inbound connectors (issue 23) ---
  registerConnectorCommands(program);
  // --- outbox admin (issue 23) ---
  registerOutboxCommands(program);
  registerOpenCommand(program);
  return program;
}

/** What a person can do about an error, by its code: one line, after the message. */
const NEXT_STEP: Partial<Record<string, string>> = {
  HOST_UNREACHABLE: 'start the host with `ccos serve` (or `npm start`), or pass --url',
  UNAUTHORIZED:
    'use the admin token of this host: --token-file <data dir>/admin.token, or CCOS_TOKEN',
  FORBIDDEN: 'this token may not do that; an admin token may',
};

/** Runs `ccos` with these arguments; the exit code it should end with. */
export async function runProgram(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A verb that checked something (chain verify, runs watch) says how it went this way.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (e) {
    // Commander has printed its own message (and the help hint) already.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (isAppError(e)) {
      const next = NEXT_STEP[e.code];
      console.error(`ccos: ${e.message} [${e.code}]${next === undefined ? '' : `\n  ${next}`}`);
      return exitCodeOf(e);
    }
    console.error('ccos: unexpected error (a bug in ccos; please report it):', e);
    return EXIT.INTERNAL;
  }
}
