import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LlmCompleteRequest, LlmMessage } from '../../../contracts/llm.ts';
import { createLlmProvider } from '../../../main/agent/llm/create-llm-provider.ts';
import { isAppError } from '../../../main/errors.ts';
import { rejectionOf } from '../../support/llm-test-kit.ts';

/** The replay provider: deterministic answers from a transcript file, for tests and the offline demo. */

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'llm');
const NO_SECRETS = { resolveSecret: () => Promise.reject(new Error('replay reads no secret')) };

function replay(file: string, onExhausted?: 'error' | 'loop_last') {
  return createLlmProvider(
    {
      kind: 'replay',
      path: path.join(FIXTURES, file),
      ...(onExhausted === undefined ? {} : { on_exhausted: onExhausted }),
    },
    NO_SECRETS,
  );
}

const TOOLS: LlmCompleteRequest['tools'] = [
  { name: 'notes__add', description: 'Adds a note.', parameters: { type: 'object' } },
];
const ASK: LlmMessage = { role: 'user', content: 'Remember milk.' };

/** The conversation after the first answer's tool call got `result` back. */
function afterToolCall(name: string, result: string): LlmCompleteRequest {
  return {
    messages: [
      ASK,
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', name, arguments: { text: 'milk' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: result },
    ],
    tools: TOOLS,
  };
}

describe('replay provider', () => {
  test('plays the entries in order, tool calls included, with recorded usage', async () => {
    const provider = replay('add-note.json');
    const first = await provider.complete({ messages: [ASK], tools: TOOLS });
    expect(first).toEqual({
      message: {
        role: 'assistant',
        content: "I'll add it.",
        tool_calls: [{ id: 'call_1', name: 'notes__add', arguments: { text: 'milk' } }],
      },
      stop_reason: 'tool_use',
      usage: { input_tokens: 120, output_tokens: 14, estimated: false },
      model: 'replay-notes',
    });
    const second = await provider.complete(afterToolCall('notes__add', '{"saved":true}'));
    expect(second.message).toEqual({
      role: 'assistant',
      content: 'Done: the note is saved.',
      tool_calls: [],
    });
    expect(second.stop_reason).toBe('end');
    expect(provider.id).toBe('replay:add-note.json');
  });

  test('an entry without usage is charged an estimate, flagged estimated', async () => {
    const provider = replay('add-note.json');
    await provider.complete({ messages: [ASK], tools: TOOLS });
    const second = await provider.complete(afterToolCall('notes__add', 'saved'));
    expect(second.usage.estimated).toBe(true);
    expect(second.usage.output_tokens).toBe(Math.ceil('Done: the note is saved.'.length / 4));
    expect(second.usage.input_tokens).toBeGreaterThan(0);
  });

  test('resumes where the run left off when told how many answers it already had', async () => {
    let asked = 0;
    const provider = createLlmProvider(
      { kind: 'replay', path: path.join(FIXTURES, 'add-note.json') },
      {
        ...NO_SECRETS,
        replayStartAt: () => {
          asked += 1;
          return Promise.resolve(1);
        },
      },
    );
    // The first answer was given before a restart: the next call gets the second entry.
    const next = await provider.complete(afterToolCall('notes__add', '{"saved":true}'));
    expect(next.message.content).toBe('Done: the note is saved.');
    await rejectionOf(provider.complete({ messages: [ASK] }));
    expect(asked).toBe(1);
  });

  test('a transcript that runs out is LLM_REPLAY_EXHAUSTED', async () => {
    const provider = replay('two-answers.jsonl');
    await provider.complete({ messages: [ASK] });
    await provider.complete({ messages: [ASK] });
    const e = await rejectionOf(provider.complete({ messages: [ASK] }));
    expect(isAppError(e, 'LLM_REPLAY_EXHAUSTED')).toBe(true);
    expect((e as Error).message).toContain('2 entries');
  });

  test('loop_last answers forever with the last entry, giving repeated tool calls fresh ids', async () => {
    const provider = replay('loop-forever.json');
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const result = await provider.complete({ messages: [ASK] });
      expect(result.message.tool_calls).toHaveLength(1);
      expect(result.message.tool_calls[0]?.name).toBe('inbox__poll');
      ids.add(result.message.tool_calls[0]?.id ?? '');
      expect(result.usage).toEqual({ input_tokens: 50, output_tokens: 5, estimated: false });
    }
    expect(ids.size).toBe(100);
  });

  test('the settings can make any transcript loop (or stop) when it runs out', async () => {
    const looping = replay('two-answers.jsonl', 'loop_last');
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push((await looping.complete({ messages: [ASK] })).message.content);
    expect(answers).toEqual(['first', 'second', 'second', 'second']);

    const stopping = replay('loop-forever.json', 'error');
    await stopping.complete({ messages: [ASK] });
    expect(
      isAppError(await rejectionOf(stopping.complete({ messages: [ASK] })), 'LLM_REPLAY_EXHAUSTED'),
    ).toBe(true);
  });

  test('JSONL transcripts: one entry per line, blank lines skipped, stop_reason as recorded', async () => {
    const provider = replay('two-answers.jsonl');
    expect((await provider.complete({ messages: [ASK] })).message.content).toBe('first');
    const second = await provider.complete({ messages: [ASK] });
    expect(second.message.content).toBe('second');
    expect(second.stop_reason).toBe('max_tokens');
    expect(second.model).toBe('replay');
  });

  test('a request that misses the entry expectation is LLM_REPLAY_MISMATCH naming what was expected', async () => {
    const provider = replay('add-note.json');
    await provider.complete({ messages: [ASK], tools: TOOLS });
    const e = await rejectionOf(provider.complete(afterToolCall('notes__delete', 'saved')));
    expect(isAppError(e, 'LLM_REPLAY_MISMATCH')).toBe(true);
    expect((e as Error).message).toContain('entry 2');
    expect((e as Error).message).toContain('notes__add');
    expect((e as Error).message).toContain('notes__delete');
  });

  test('the first entry refuses a request that does not offer its tool', async () => {
    const e = await rejectionOf(replay('add-note.json').complete({ messages: [ASK] }));
    expect(isAppError(e, 'LLM_REPLAY_MISMATCH')).toBe(true);
    expect((e as Error).message).toContain('notes__add');
  });

  test('two providers over one transcript give identical answers (deterministic)', async () => {
    const run = async () => {
      const p = replay('loop-forever.json');
      const out = [];
      for (let i = 0; i < 3; i++) out.push(await p.complete({ messages: [ASK] }));
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  test('an invalid transcript is INVALID_INPUT listing path and problem', async () => {
    const e = await rejectionOf(replay('invalid-entry.json').complete({ messages: [ASK] }));
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toContain('invalid-entry.json');
    expect((e as Error).message).toContain('entries.0.message.tool_calls.0.name');
  });

  test('a missing transcript is INVALID_INPUT naming the file', async () => {
    const e = await rejectionOf(replay('no-such-file.json').complete({ messages: [ASK] }));
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toContain('no-such-file.json');
  });

  test('the transcript is read through deps.readFile when given, once', async () => {
    let reads = 0;
    const provider = createLlmProvider(
      { kind: 'replay', path: 'memory.json', on_exhausted: 'loop_last' },
      {
        ...NO_SECRETS,
        readFile: () => {
          reads++;
          return Promise.resolve('[{"message":{"content":"hi"}}]');
        },
      },
    );
    await provider.complete({ messages: [ASK] });
    await provider.complete({ messages: [ASK] });
    expect(reads).toBe(1);
  });

  test('an already aborted call is LLM_ABORTED and does not consume an entry', async () => {
    const provider = replay('two-answers.jsonl');
    const controller = new AbortController();
    controller.abort();
    const e = await rejectionOf(
      provider.complete({ messages: [ASK] }, { signal: controller.signal }),
    );
    expect(isAppError(e, 'LLM_ABORTED')).toBe(true);
    expect((await provider.complete({ messages: [ASK] })).message.content).toBe('first');
  });
});
