import type { Command } from 'commander';
import type { TranscriptItem } from '../../contracts/payloads.ts';
import type { ApiClient } from '../gateway-client/api-client.ts';
import { connect, print } from './cli-context.ts';

/** Content shown per item unless `--full`: enough to follow a run, not a whole prompt. */
const SHOWN_CHARS = 1200;

/** `ccos runs transcript ID`: each LLM call's prompt and answer, each tool call's input and outcome. */
export function registerTranscriptCommand(runs: Command): void {
  runs
    .command('transcript')
    .description(
      "a run's transcript (admin): each LLM call's prompt and answer and each tool call's input and outcome, redacted",
    )
    .argument('<id>', 'run id')
    .option('--full', 'whole prompts and outputs, not just their last message and first lines')
    .action(async (id: string, opts: { full?: boolean }, command: Command) => {
      const { client, json } = await connect(command);
      const items = await allItems(client, id);
      print(json, { run_id: id, items }, (t) =>
        t.items.length === 0
          ? `${id}: no transcript yet (or every payload was purged)`
          : t.items.map((item) => renderItem(item, opts.full === true)).join('\n\n'),
      );
    });
}

async function allItems(client: ApiClient, id: string): Promise<TranscriptItem[]> {
  const items: TranscriptItem[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await client.call('getRunTranscript', {
      params: { id },
      query: { limit: 1000, ...(after === undefined ? {} : { after_id: after }) },
    });
    items.push(...page.items);
    if (page.next_after_id === null) return items;
    after = page.next_after_id;
  }
}

const TITLES: Record<TranscriptItem['kind'], string> = {
  'llm.prompt': 'prompt to',
  'llm.answer': 'answer from',
  'tool.input': 'call',
  'tool.outcome': 'outcome of',
  'run.note': 'note from',
};

function renderItem(item: TranscriptItem, full: boolean): string {
  const head = `${item.created_at.slice(11, 19)} ${item.step_id}  ${TITLES[item.kind]} ${item.subject}  (${item.bytes} bytes, ${item.label})`;
  if (item.purged_at !== null)
    return `${head}\n  [purged at ${item.purged_at}; digest ${item.digest}]`;
  return `${head}\n${indent(cut(body(item, full), full))}`;
}

/** A prompt repeats the whole conversation each call: by default only its last message. */
function body(item: TranscriptItem, full: boolean): string {
  if (item.kind === 'llm.prompt') {
    const messages = (item.content as { messages?: unknown }).messages;
    if (Array.isArray(messages)) {
      const shown = full ? messages : messages.slice(-1);
      const lines = shown.map(messageLine);
      return full
        ? lines.join('\n')
        : `(${messages.length} messages; the last:)\n${lines.join('\n')}`;
    }
  }
  if (item.kind === 'llm.answer') return messageLine(item.content);
  return JSON.stringify(item.content, null, 2);
}

function messageLine(m: unknown): string {
  const { role, content, tool_calls } = (m ?? {}) as {
    role?: unknown;
    content?: unknown;
    tool_calls?: unknown;
  };
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  const calls =
    Array.isArray(tool_calls) && tool_calls.length > 0
      ? `\n  → ${tool_calls
          .map(
            (c: { name?: unknown; arguments?: unknown }) =>
              `${String(c.name)} ${JSON.stringify(c.arguments)}`,
          )
          .join('\n  → ')}`
      : '';
  const who = typeof role === 'string' ? role : '?';
  return `${who}:${text === '' ? '' : ` ${text}`}${calls}`;
}

function cut(text: string, full: boolean): string {
  return full || text.length <= SHOWN_CHARS
    ? text
    : `${text.slice(0, SHOWN_CHARS)}… [${text.length - SHOWN_CHARS} more characters: --full]`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
