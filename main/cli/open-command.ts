import type { Command } from 'commander';
import { connect, print } from './cli-context.ts';

/**
 * `ccos open`: a one-time login link for the UI of the running host. The admin token stays
 * in the CLI; the browser gets a code it exchanges, once, for an HttpOnly session cookie.
 */
export function registerOpenCommand(program: Command): void {
  program
    .command('open')
    .description('print a one-time login link for the UI (valid 5 minutes, works once)')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const link = await client.call('createLoginLink');
      print(json, link, (l) => l.url);
    });
}
