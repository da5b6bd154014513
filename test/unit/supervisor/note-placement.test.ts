import { describe, expect, it } from 'vitest';
import type { LlmMessage } from '../../../contracts/llm.ts';
import { notesMayFollow } from '../../../main/supervisor/note-placement.ts';

const call: LlmMessage = {
  role: 'assistant',
  content: '',
  tool_calls: [{ id: 'c1', name: 'echo-notes__echo', arguments: {} }],
};
const result: LlmMessage = { role: 'tool', tool_call_id: 'c1', content: '{}', is_error: false };

describe('where a person’s note may go in an LLM request', () => {
  it('after a user message or after the tool results that answer the last call', () => {
    expect(notesMayFollow([{ role: 'user', content: 'Begin.' }])).toBe(true);
    expect(notesMayFollow([{ role: 'user', content: 'Begin.' }, call, result])).toBe(true);
    expect(
      notesMayFollow([
        { role: 'user', content: 'Begin.' },
        { role: 'assistant', content: 'Hi.' },
      ]),
    ).toBe(true);
  });

  it('never between an assistant tool call and its result', () => {
    expect(notesMayFollow([{ role: 'user', content: 'Begin.' }, call])).toBe(false);
  });
});
