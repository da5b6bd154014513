import { InvalidArgumentError, type Command } from 'commander';
import {
  durationTextSchema,
  outboxStateSchema,
  type OutboxMessage,
  type OutboxMessageDetail,
  type OutboxState,
} from '../../contracts/outbox.ts';
import { connect, print, table } from './cli-context.ts';
import { positiveInt } from './option-parsers.ts';

/** `--older-than 7d`: checked here so a typo is a usage error before anything is sent. */
function olderThan(value: string): string {
  if (!durationTextSchema.safeParse(value).success)
    throw new InvalidArgumentError(
      `--older-than takes a duration such as 30m, 12h, 7d or 1d12h, not "${value}".`,
    );
  return value;
}

function state(value: string): OutboxState {
  const parsed = outboxStateSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidArgumentError(
      `--state takes one of ${outboxStateSchema.options.join(', ')}, not "${value}".`,
    );
  return parsed.data;
}

/** `--attempts`: as the API takes it, 1 to 50. */
function attempts(value: string): number {
  const n = positiveInt('--attempts')(value);
  if (n > 50) throw new InvalidArgumentError(`--attempts takes at most 50, not "${value}".`);
  return n;
}

/** `ccos outbox list|show|retry|discard|prune`: outbound messages and dead letters (admin). */
export function registerOutboxCommands(program: Command): void {
  const outbox = program
    .command('outbox')
    .description(
      'outbound messages: their delivery history, and the dead letters to retry or discard (each action audited)',
    );

  outbox
    .command('list')
    .description('messages, newest first (no content; `show` has it, redacted)')
    .option('--state <state>', 'queued, in_flight, delivered or dead', state)
    .option('--connector <id>', 'only messages of this connector')
    .option('--run <id>', 'only messages this run sent')
    .option('--limit <n>', 'at most this many (1-500, default 100)', positiveInt('--limit'))
    .option('--cursor <cursor>', 'the next page: the cursor a previous page printed')
    .action(
      async (
        opts: {
          state?: OutboxState;
          connector?: string;
          run?: string;
          limit?: number;
          cursor?: string;
        },
        command: Command,
      ) => {
        const { client, json } = await connect(command);
        const result = await client.call('listOutbox', {
          query: {
            ...(opts.state === undefined ? {} : { state: opts.state }),
            ...(opts.connector === undefined ? {} : { connector: opts.connector }),
            ...(opts.run === undefined ? {} : { run: opts.run }),
            ...(opts.limit === undefined ? {} : { limit: opts.limit }),
            ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
          },
        });
        print(json, result, (r) =>
          [
            renderList(r.messages),
            ...(r.next_cursor === null ? [] : [`more: --cursor ${r.next_cursor}`]),
          ].join('\n'),
        );
      },
    );

  outbox
    .command('show')
    .description('one message: its content and every delivery attempt (redacted)')
    .argument('<id>', 'outbox message id (obx_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      print(json, await client.call('getOutboxMessage', { params: { id } }), renderDetail);
    });

  outbox
    .command('retry')
    .description(
      'send a dead letter again with a new budget of attempts (same idempotency key; recorded as outbox.admin)',
    )
    .argument('<id>', 'outbox message id (obx_…)')
    .option('--attempts <n>', 'tries from now (1-50; default: the policy pack’s)', attempts)
    .action(async (id: string, opts: { attempts?: number }, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('retryOutboxMessage', {
        params: { id },
        body: opts.attempts === undefined ? {} : { attempts: opts.attempts },
      });
      print(json, result, (r) => {
        const m = r.message;
        return m === null
          ? `queued ${id}`
          : `queued ${id} again: up to ${m.max_attempts - m.attempts} more attempts`;
      });
    });

  outbox
    .command('discard')
    .description('delete a dead or queued message so it is never sent (recorded as outbox.admin)')
    .argument('<id>', 'outbox message id (obx_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('discardOutboxMessage', { params: { id } });
      print(json, result, () => `discarded ${id}`);
    });

  outbox
    .command('prune')
    .description('delete delivered and dead messages settled longer ago than --older-than')
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h, 1d12h (at least 1m)', olderThan)
    .action(async (opts: { olderThan: string }, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('pruneOutbox', { body: { older_than: opts.olderThan } });
      print(json, result, (r) => `deleted ${r.deleted} message${r.deleted === 1 ? '' : 's'}`);
    });
}

function renderList(messages: readonly OutboxMessage[]): string {
  if (messages.length === 0) return 'no outbox messages';
  return table([
    ['ID', 'STATE', 'CONNECTOR', 'CHANNEL', 'ATTEMPTS', 'LAST ERROR', 'CREATED'],
    ...messages.map((m) => [
      m.id,
      m.state,
      m.connector_id,
      m.channel_id,
      `${m.attempts}/${m.max_attempts}`,
      m.last_error_category ?? '-',
      m.created_at,
    ]),
  ]);
}

function renderDetail(m: OutboxMessageDetail): string {
  return [
    `${m.id}  ${m.state}  ${m.connector_id} / ${m.channel_id}`,
    `run       ${m.run_id ?? '-'} step ${m.step_id ?? '-'}`,
    `key       ${m.idempotency_key}`,
    `label     ${m.label.length === 0 ? 'public' : m.label.join('+')}`,
    `attempts  ${m.attempts} of ${m.max_attempts}; next ${m.next_attempt_at}`,
    `error     ${m.last_error === null ? '-' : `${m.last_error_category ?? ''}: ${m.last_error}`}`,
    `text      ${m.content.text}`,
    ...(m.content.reply_to === undefined ? [] : [`reply to  ${m.content.reply_to}`]),
    'history',
    m.history.length === 0
      ? '  (no attempt yet)'
      : table([
          ['ATTEMPT', 'STARTED', 'OUTCOME', 'STATUS', 'LATENCY', 'CATEGORY', 'MESSAGE'],
          ...m.history.map((h) => [
            String(h.attempt),
            h.started_at,
            h.outcome,
            h.status === null ? '-' : String(h.status),
            h.latency_ms === null ? '-' : `${h.latency_ms}ms`,
            h.category ?? '-',
            h.message ?? '-',
          ]),
        ]),
  ].join('\n');
}
