import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { StreamEvent } from '../../contracts/api.ts';
import { chainEventTypeSchema, type ChainEntry } from '../../contracts/chain.ts';
import { isTerminalState, type Run } from '../../contracts/runs.ts';
import { AppError } from '../errors.ts';
import type { ApiClient } from '../gateway-client/api-client.ts';
import { followEvents } from '../gateway-client/event-stream.ts';
import { connect, print, table, userPath } from './cli-context.ts';
import { EXIT } from './exit-codes.ts';
import { pageLimit } from './option-parsers.ts';
import { registerTranscriptCommand } from './transcript-command.ts';

/** `ccos runs steps|chain|events|watch` and `ccos chain query`: seeing why a run did what it did. */
export function registerInspectCommands(program: Command): void {
  const runs = subcommand(program, 'runs');
  registerTranscriptCommand(runs);

  runs
    .command('steps')
    .description("a run's steps: each LLM call and tool call, with its outcome")
    .argument('<id>', 'run id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('listRunSteps', { params: { id } });
      print(json, result, (r) =>
        table([
          ['STARTED', 'SEG', 'KIND', 'OUTCOME', 'TOKENS', 'SUMMARY'],
          ...r.steps.map((s) => [
            s.started_at,
            String(s.segment),
            s.kind,
            s.outcome ?? 'running',
            String(s.tokens),
            s.summary,
          ]),
        ]),
      );
    });

  runs
    .command('chain')
    .description("a run's causal chain entries, oldest first")
    .argument('<id>', 'run id')
    .option('--type <event type>', 'only entries of this type, e.g. run.transition')
    .option('--limit <n>', 'at most this many (1 to 1000)', pageLimit())
    .action(async (id: string, opts: { type?: string; limit?: number }, command: Command) => {
      const { client, json } = await connect(command);
      const type = opts.type === undefined ? undefined : eventType(opts.type);
      const entries = (await allRunEntries(client, id)).filter(
        (e) => type === undefined || e.event_type === type,
      );
      const shown = opts.limit === undefined ? entries : entries.slice(0, opts.limit);
      print(json, { entries: shown }, (r) => chainTable(r.entries));
    });

  runs
    .command('events')
    .description('deliver an external event to a run; a run waiting for exactly this type resumes')
    .argument('<id>', 'run id')
    .argument('<type>', 'event type, e.g. payment.received')
    .option('--data <json>', 'the event payload, a JSON object')
    .option('--data-file <file>', 'read the payload from a JSON file')
    .action(
      async (
        id: string,
        type: string,
        opts: { data?: string; dataFile?: string },
        command: Command,
      ) => {
        const payload = await payloadOf(opts);
        const { client, json } = await connect(command);
        const result = await client.call('postRunEvent', {
          params: { id },
          body: { type, ...(payload === undefined ? {} : { payload }) },
        });
        print(json, result, (r) =>
          r.resumed
            ? `event ${r.event_id} recorded; run ${r.run.id} resumes (${r.run.state})`
            : `event ${r.event_id} recorded; run ${r.run.id} is ${r.run.state} and does not wait for "${type}"`,
        );
      },
    );

  runs
    .command('watch')
    .description(
      'follow a run live: transitions, segments, LLM and tool calls, approvals and budget use; ends when the run does (exit 0 if done, 1 otherwise)',
    )
    .argument('<id>', 'run id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      // The newest entry first, then the state: whatever happens after this read is followed
      // (an entry between the two reads may show twice, never not at all).
      const afterSeq = (await allRunEntries(client, id)).at(-1)?.seq ?? 0;
      const detail = await client.call('getRun', { params: { id } });
      const out = (event: StreamEvent | Run, line: string): void => {
        console.log(json ? JSON.stringify(event) : line);
      };
      out(detail.run, `${detail.run.id}: ${stateLine(detail.run)}\n  ${usageLine(detail.run)}`);
      if (isFinished(detail.run)) {
        process.exitCode = detail.run.state === 'done' ? EXIT.OK : EXIT.FAILED;
        return;
      }
      let ended: Run['state'] | undefined;
      await followEvents(client, {
        afterSeq,
        onEvent: async (event) => {
          if (event.run_id !== id) return undefined;
          out(event, `${event.timestamp.slice(11, 19)} ${describeEvent(event)}`);
          if (event.event_type === 'segment.ended' || event.event_type === 'budget.warning') {
            const now = await client.call('getRun', { params: { id } });
            if (!json) console.log(`  ${usageLine(now.run)}`);
          }
          const to = event.event_type === 'run.transition' ? event.data.to : undefined;
          if (isTerminalState(to)) {
            ended = to;
            return 'stop';
          }
          return undefined;
        },
      });
      process.exitCode = ended === 'done' ? EXIT.OK : EXIT.FAILED;
    });

  subcommand(program, 'chain')
    .command('query')
    .description('causal chain entries by run, type and time (admin)')
    .option('--run <id>', 'only entries of this run')
    .option('--type <event type>', 'only entries of this type')
    .option('--since <instant>', 'from this ISO 8601 instant on')
    .option('--until <instant>', 'before this ISO 8601 instant')
    .option('--after-seq <seq>', 'after this sequence number (paging)', (v) => pageAfter(v))
    .option('--limit <n>', 'at most this many (1 to 1000)', pageLimit())
    .action(async (opts: ChainQueryOptions, command: Command) => {
      const { client, json } = await connect(command);
      const page = await client.call('queryChain', {
        query: {
          ...(opts.run === undefined ? {} : { run_id: opts.run }),
          ...(opts.type === undefined ? {} : { event_type: eventType(opts.type) }),
          ...(opts.since === undefined ? {} : { since: opts.since }),
          ...(opts.until === undefined ? {} : { until: opts.until }),
          ...(opts.afterSeq === undefined ? {} : { after_seq: opts.afterSeq }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        },
      });
      print(json, page, (p) =>
        [
          chainTable(p.entries),
          ...(p.next_after_seq === null ? [] : [`more: --after-seq ${p.next_after_seq}`]),
        ].join('\n'),
      );
    });
}

type ChainQueryOptions = {
  run?: string;
  type?: string;
  since?: string;
  until?: string;
  afterSeq?: number;
  limit?: number;
};

/** A verb group another file registered (`runs`, `chain`), to add verbs to it. */
function subcommand(program: Command, name: string): Command {
  const found = program.commands.find((c) => c.name() === name);
  if (found === undefined) throw new Error(`ccos: the "${name}" verbs must be registered first`);
  return found;
}

function eventType(text: string): ChainEntry['event_type'] {
  const parsed = chainEventTypeSchema.safeParse(text);
  if (!parsed.success) {
    throw new AppError(
      'INVALID_INPUT',
      `--type: unknown event type "${text}"; known: ${chainEventTypeSchema.options.join(', ')}`,
    );
  }
  return parsed.data;
}

function pageAfter(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new AppError('INVALID_INPUT', `--after-seq takes a whole number, not "${value}"`);
  return n;
}

async function payloadOf(opts: {
  data?: string;
  dataFile?: string;
}): Promise<Record<string, unknown> | undefined> {
  if (opts.data !== undefined && opts.dataFile !== undefined)
    throw new AppError('INVALID_INPUT', 'give --data or --data-file, not both');
  const text =
    opts.dataFile === undefined
      ? opts.data
      : await readFile(userPath(opts.dataFile), 'utf8').catch(() => {
          throw new AppError('INVALID_INPUT', `--data-file: cannot read ${opts.dataFile ?? ''}`);
        });
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_INPUT', 'the event payload is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AppError('INVALID_INPUT', 'the event payload must be a JSON object');
  return value as Record<string, unknown>;
}

async function allRunEntries(client: ApiClient, id: string): Promise<ChainEntry[]> {
  const entries: ChainEntry[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await client.call('listRunChain', {
      params: { id },
      query: { limit: 1000, ...(after === undefined ? {} : { after_seq: after }) },
    });
    entries.push(...page.entries);
    if (page.next_after_seq === null) return entries;
    after = page.next_after_seq;
  }
}

function chainTable(entries: readonly ChainEntry[]): string {
  return table([
    ['SEQ', 'TIME', 'TYPE', 'ACTOR', 'RUN', 'WHAT'],
    ...entries.map((e) => [
      String(e.seq),
      e.timestamp,
      e.event_type,
      e.actor,
      e.run_id ?? '',
      describeEvent(e),
    ]),
  ]);
}

function isFinished(run: Run): boolean {
  return isTerminalState(run.state);
}

function stateLine(run: Run): string {
  return `${run.state}${run.state_reason === null ? '' : ` (${run.state_reason})`}`;
}

/** Budget use; retries never show above their limit, the extra attempt that failed the run aside. */
export function usageLine(run: Run): string {
  const u = run.usage;
  const b = run.budget;
  const retries = Math.min(u.retries, b.max_retries);
  return [
    `steps ${u.steps}/${b.max_steps}`,
    `tokens ${u.tokens}/${b.max_tokens}${u.tokens_estimated ? ' (some estimated)' : ''}`,
    `active ${Math.round(u.wall_clock_ms / 1000)}s/${Math.round(b.max_wall_clock_ms / 1000)}s`,
    `retries ${retries}/${b.max_retries}`,
  ].join(', ');
}

/** Renders one field for a line of text. */
function s(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/** ` (reason)` when there is one. */
function why(v: unknown): string {
  return v === null || v === undefined ? '' : ` (${s(v)})`;
}

type Data = Record<string, unknown>;

/** How the event types a person follows a run by read; others show their data. */
const DESCRIBE: Partial<Record<ChainEntry['event_type'], (d: Data) => string>> = {
  'run.created': (d) => `run created (${s(d.state)})`,
  'run.transition': (d) => `${s(d.from)} → ${s(d.to)}${why(d.reason)}`,
  'segment.started': (d) =>
    `segment ${s(d.segment)} started${d.unsafe === true ? ` UNSAFE, without a jail (${s(d.isolation)})` : d.isolation === undefined ? '' : ` (${s(d.isolation)})`}`,
  'segment.ended': (d) =>
    `segment ${s(d.segment)} ended after ${s(d.steps)} step(s)${d.failure === null || d.failure === undefined ? '' : `: ${s(d.failure)}`}`,
  'llm.call': (d) => {
    const usage = d.usage as { input_tokens?: number; output_tokens?: number } | undefined;
    const tools = Array.isArray(d.tool_calls) ? d.tool_calls.map(s) : [];
    return `LLM ${s(d.model)}: ${s(d.stop_reason)}, ${usage?.input_tokens ?? 0}+${usage?.output_tokens ?? 0} tokens${tools.length === 0 ? '' : `, calls ${tools.join(', ')}`}`;
  },
  'skill.execute': (d) =>
    `tool ${s(d.tool)}: ${s(d.outcome)}${d.code === undefined ? '' : ` ${s(d.code)}`}${why(d.reason)}`,
  'approval.request': (d) =>
    `asks for ${s(d.kind)} approval ${s(d.approval_id)}: ${s(d.justification)}`,
  'approval.decision': (d) => `approval ${s(d.approval_id)} ${s(d.state)}${why(d.reason)}`,
  'budget.warning': (d) =>
    `budget: ${s(d.kind)} at ${s(d.percent)}% (${s(d.used)} of ${s(d.limit)})`,
  'budget.exceeded': (d) =>
    `budget: ${s(d.kind)} spent (${s(d.used)} of ${s(d.limit)}), ${s(d.decision)}`,
  'budget.granted': (d) => `budget: +${s(d.amount)} ${s(d.kind)} granted`,
  checkpoint: (d) => `checkpoint ${s(d.checkpoint_id)} (${s(d.bytes)} bytes)`,
  'policy.decision': (d) =>
    `policy: ${s(d.decision)}${d.claim === undefined ? '' : ` the claim "${s(d.claim)}"`}`,
};

/** One line for a chain entry or streamed event: what happened, in words. */
export function describeEvent(e: Pick<StreamEvent, 'event_type' | 'data'>): string {
  const describe = DESCRIBE[e.event_type];
  if (describe !== undefined) return describe(e.data);
  return Object.keys(e.data).length === 0 ? '' : JSON.stringify(e.data).slice(0, 120);
}
