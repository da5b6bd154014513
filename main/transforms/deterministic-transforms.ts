import type { ExtractOutput, RedactOutput, SummarizeOutput } from '../../contracts/transforms.ts';
import { findIdentifiers, normalized, replaceIdentifiers, type MessageIds } from './identifiers.ts';

/*
 * The transforms without an LLM: rules only, so their outputs are predictable and never
 * longer than the verifier allows. They read the text only after every identifier has been
 * replaced, and they name topics and requests by keywords, never by quoting a sentence.
 */

/** The source as a transform reads it: its text and its own ids. */
export type TransformSource = MessageIds & { content: string };

const MAX_TOPICS = 5;
/** Longer "words" are codes, keys or padding, not topics. */
const MAX_KEYWORD = 24;
const MAX_TASKS = 5;
/** Keywords per task: far below any quote limit the verifier can be set to. */
const TASK_KEYWORDS = 3;
const STOPWORDS = new Set(
  `about above after again against all also and any are because been before being below between both but
  can cannot could did does doing down during each few for from further had has have having her here hers
  herself him himself his how into its itself just let like more most much must myself not now off once only
  other our ours ourselves out over own please really same she should some such than that the their theirs
  them themselves then there these they this those through too under until very was were what when where
  which while who whom why will with would you your yours yourself yourselves tomorrow today tonight`.split(
    /\s+/,
  ),
);
/** A sentence that asks for something. */
const REQUEST =
  /\b(?:please|can you|could you|would you|will you|need to|needs to|have to|remember to|don't forget|todo|to-do|let's)\b/i;

/** Words a topic may be: letters only (no digits, no codes), not a stopword or a placeholder. */
function keywords(text: string): string[] {
  return [...text.matchAll(/\[[a-z_]+\]|[\p{L}][\p{L}'-]*/gu)]
    .map((m) => m[0].toLowerCase())
    .filter(
      (w) =>
        !w.startsWith('[') &&
        /^\p{L}{4,}$/u.test(w) &&
        w.length <= MAX_KEYWORD &&
        !STOPWORDS.has(w),
    );
}

/** The most frequent keywords, ties broken by first appearance. */
function topKeywords(text: string, n: number): string[] {
  const counts = new Map<string, number>();
  for (const w of keywords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([w]) => w);
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Requests in the text, each named by its keywords (`request: invoice, friday`). */
function tasksOf(redacted: string): string[] {
  return sentences(redacted)
    .filter((s) => REQUEST.test(s))
    .map((s) => topKeywords(s, TASK_KEYWORDS))
    .filter((k) => k.length > 0)
    .slice(0, MAX_TASKS)
    .map((k) => `request: ${k.join(', ')}`);
}

/** The source as the rules read it: folded like the verifier reads it, so nothing hides. */
function readable(source: TransformSource): TransformSource {
  return {
    content: normalized(source.content),
    sender_id: normalized(source.sender_id),
    channel_id: normalized(source.channel_id),
  };
}

export function summarize(raw: TransformSource): SummarizeOutput {
  const source = readable(raw);
  const redacted = replaceIdentifiers(source.content, source);
  const wordCount = [...redacted.matchAll(/[\p{L}\p{N}]+/gu)].length;
  const topics = topKeywords(redacted, MAX_TOPICS);
  const tasks = tasksOf(redacted);
  const about = topics.length === 0 ? '' : ` about ${topics.slice(0, 3).join(', ')}`;
  const asks =
    tasks.length === 0 ? '' : `, with ${tasks.length} request${tasks.length === 1 ? '' : 's'}`;
  return {
    summary: `A message of ${wordCount} word${wordCount === 1 ? '' : 's'}${about}${asks}.`,
    ...(topics.length === 0 ? {} : { topics }),
    ...(tasks.length === 0 ? {} : { tasks }),
  };
}

const DATE =
  /\b(?:\d{4}-\d{2}-\d{2}|(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|today|tonight|next week|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2})\b/gi;
const TIME = /\b(?:\d{1,2}:\d{2}(?:\s?[ap]m)?|\d{1,2}\s?[ap]m|noon|midnight)\b/gi;
const AMOUNT =
  /(?:[$€£]\s?\d[\d,]{0,12}(?:\.\d{1,2})?|\b\d[\d,]{0,12}(?:\.\d{1,2})?\s?(?:usd|eur|gbp|dollars|euros)\b)/gi;
const MAX_ENTITIES = 100;

export function extract(raw: TransformSource): ExtractOutput {
  const source = readable(raw);
  const identifiers = findIdentifiers(source.content, source)
    // The message's own ids are not entities of it; the others appear as placeholders.
    .filter((m) => m.class !== 'sender_id' && m.class !== 'channel_id')
    .map((m) => ({ kind: m.class as 'email' | 'url' | 'phone' | 'handle', value: `[${m.class}]` }));
  const redacted = replaceIdentifiers(source.content, source);
  const found = (kind: 'date' | 'time' | 'amount', pattern: RegExp) =>
    [...redacted.matchAll(pattern)].map((m) => ({ kind, value: m[0].toLowerCase() }));
  return {
    entities: [
      ...found('date', DATE),
      ...found('time', TIME),
      ...found('amount', AMOUNT),
      ...identifiers,
    ].slice(0, MAX_ENTITIES),
    tasks: tasksOf(redacted),
  };
}

export function redact(raw: TransformSource): RedactOutput {
  const source = readable(raw);
  return { text: replaceIdentifiers(source.content, source) };
}
