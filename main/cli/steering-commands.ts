import type { Command } from 'commander';
import { connect, print } from './cli-context.ts';

/** `ccos runs note|interrupt` (issue 24): steering a live run. */
export function registerSteeringCommands(runs: Command): void {
  runs
    .command('note')
    .description("send a run's agent a note it reads at its next LLM step")
    .argument('<id>', 'run id')
    .argument('<text>', 'the note (up to 4000 characters)')
    .action(async (id: string, text: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const note = await client.call('postRunNote', { params: { id }, body: { text } });
      print(json, note, (n) => `note ${n.id} waits for the next step of ${n.run_id}`);
    });

  runs
    .command('interrupt')
    .description(
      'pause a running run at its next step boundary (resume it with `ccos runs resume`)',
    )
    .argument('<id>', 'run id')
    .option('--reason <text>', 'shown as the run’s reason and recorded on the causal chain')
    .action(async (id: string, opts: { reason?: string }, command: Command) => {
      const { client, json } = await connect(command);
      const body = opts.reason === undefined ? {} : { reason: opts.reason };
      const interrupt = await client.call('interruptRun', { params: { id }, body });
      print(json, interrupt, (i) => `${i.run_id} pauses at its next step (interrupt ${i.id})`);
    });
}
