import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  llmReplayEntrySchema,
  llmReplayTranscriptSchema,
  type LlmCompleteRequest,
  type LlmCompleteResult,
  type LlmProviderSettings,
  type LlmReplayExpectation,
  type LlmReplayTranscript,
} from '../../../contracts/llm.ts';
import { AppError, invalidInput } from '../../errors.ts';
import { estimateUsage } from './estimate-usage.ts';
import type { LlmCallOptions, LlmProvider, LlmProviderDeps } from './llm-provider.ts';

type ReplaySettings = Extract<LlmProviderSettings, { kind: 'replay' }>;

/** Request text quoted in a mismatch error is cut here, so the error stays readable. */
const MAX_QUOTE_CHARS = 80;

/**
 * Plays a recorded transcript: the n-th call gets the n-th entry, whatever the request,
 * so tests and the offline demo are deterministic and need no network. Each instance has
 * its own position; the gateway keeps one per run. Entries may check the request they
 * answer (`expect`), which turns an agent that drifted from the script into a clear
 * `LLM_REPLAY_MISMATCH` instead of nonsense answers.
 */
export class ReplayProvider implements LlmProvider {
  readonly id: string;
  readonly #settings: ReplaySettings;
  readonly #readFile: (path: string) => Promise<string>;
  readonly #startAt: (() => Promise<number>) | undefined;
  #transcript: LlmReplayTranscript | undefined;
  #calls = 0;

  constructor(settings: ReplaySettings, deps: LlmProviderDeps) {
    this.id = `replay:${path.basename(settings.path)}`;
    this.#settings = settings;
    this.#readFile = deps.readFile ?? ((p) => readFile(p, 'utf8'));
    this.#startAt = deps.replayStartAt;
  }

  async complete(
    request: LlmCompleteRequest,
    options: LlmCallOptions = {},
  ): Promise<LlmCompleteResult> {
    const transcript = await this.#load();
    if (options.signal?.aborted === true)
      throw new AppError('LLM_ABORTED', `${this.id}: the call was aborted`, { provider: this.id });
    const { entries } = transcript;
    // Read and advance in one synchronous step, so concurrent calls each get their own entry.
    const call = this.#calls++;
    let index = call;
    let round = 0;
    if (call >= entries.length) {
      const mode = this.#settings.on_exhausted ?? transcript.on_exhausted;
      if (mode === 'error')
        throw new AppError(
          'LLM_REPLAY_EXHAUSTED',
          `${this.id}: the transcript has ${entries.length} entries and call ${call + 1} asked for another`,
          { provider: this.id, entries: entries.length },
        );
      index = entries.length - 1;
      round = call - index;
    }
    const entry = entries[index];
    if (entry === undefined)
      throw new AppError('INTERNAL', `${this.id}: entry ${index} is missing`);
    const mismatch = entry.expect === undefined ? undefined : unmet(entry.expect, request);
    if (mismatch !== undefined)
      throw new AppError(
        'LLM_REPLAY_MISMATCH',
        `${this.id}: entry ${index + 1} expected ${mismatch}`,
        { provider: this.id, entry: index + 1 },
      );
    const message = {
      role: 'assistant' as const,
      content: entry.message.content,
      // A looping entry repeats its calls; fresh ids keep each round's results apart.
      tool_calls: entry.message.tool_calls.map((c) =>
        round === 0 ? c : { ...c, id: `${c.id}_${round}` },
      ),
    };
    return {
      message,
      stop_reason: entry.stop_reason ?? (message.tool_calls.length > 0 ? 'tool_use' : 'end'),
      usage:
        entry.usage === undefined
          ? estimateUsage(request, message)
          : { ...entry.usage, estimated: false },
      model: transcript.model,
    };
  }

  /** Reads and checks the transcript on first use; a failed read is tried again next call. */
  async #load(): Promise<LlmReplayTranscript> {
    if (this.#transcript !== undefined) return this.#transcript;
    const file = this.#settings.path;
    let text: string;
    try {
      text = await this.#readFile(file);
    } catch (e) {
      throw new AppError(
        'INVALID_INPUT',
        `cannot read replay transcript ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const transcript = parseTranscript(file, text);
    // A restarted host picks up where the run left off instead of replaying from the top.
    const start = (await this.#startAt?.()) ?? 0;
    this.#calls = Math.max(this.#calls, start);
    this.#transcript = transcript;
    return this.#transcript;
  }
}

/**
 * Parses a transcript file: `.jsonl` holds one entry per line, anything else is JSON
 * holding a transcript object or a bare array of entries.
 */
export function parseTranscript(file: string, text: string): LlmReplayTranscript {
  const what = `replay transcript ${file}`;
  let raw: unknown;
  if (file.endsWith('.jsonl')) {
    const entries: unknown[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      const entry = llmReplayEntrySchema.safeParse(parseJson(`${what} line ${i + 1}`, line));
      if (!entry.success) throw invalidInput(`${what} line ${i + 1}`, entry.error.issues);
      entries.push(entry.data);
    }
    raw = { entries };
  } else {
    const json = parseJson(what, text);
    raw = Array.isArray(json) ? { entries: json } : json;
  }
  const parsed = llmReplayTranscriptSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(what, parsed.error.issues);
  return parsed.data;
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError(
      'INVALID_INPUT',
      `invalid ${what}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Describes the first expectation the request fails, or undefined when it meets them all. */
function unmet(expect: LlmReplayExpectation, request: LlmCompleteRequest): string | undefined {
  const last = request.messages.at(-1);
  if (last === undefined) return 'a request with messages';
  if (expect.last_role !== undefined && last.role !== expect.last_role)
    return `the last message to be ${expect.last_role}, got ${last.role}`;
  if (expect.last_tool_name !== undefined) {
    if (last.role !== 'tool')
      return `the last message to be a result of tool ${expect.last_tool_name}, got ${last.role}`;
    const name = request.messages
      .flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : []))
      .find((c) => c.id === last.tool_call_id)?.name;
    if (name !== expect.last_tool_name)
      return `the last message to be a result of tool ${expect.last_tool_name}, got ${name ?? `unknown call ${last.tool_call_id}`}`;
  }
  if (
    expect.last_content_includes !== undefined &&
    !last.content.includes(expect.last_content_includes)
  )
    return `the last message to include ${JSON.stringify(expect.last_content_includes)}, got ${JSON.stringify(last.content.slice(0, MAX_QUOTE_CHARS))}`;
  const offered = new Set((request.tools ?? []).map((t) => t.name));
  const missing = (expect.tools_include ?? []).filter((t) => !offered.has(t));
  if (missing.length > 0) return `the tools ${missing.join(', ')} to be offered`;
  return undefined;
}
