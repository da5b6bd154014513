import { describe, expect, it } from 'vitest';
import type { LlmMessage } from '../../../../contracts/llm.ts';
import {
  MAX_KEPT_MESSAGES,
  MAX_MESSAGE_CHARS,
  MAX_STATE_BYTES,
  boundMessage,
  boundState,
  pendingToolCalls,
  restoreState,
} from '../../../../main/agent/worker/agent-state.ts';

const call = (id: string): LlmMessage => ({
  role: 'assistant',
  content: '',
  tool_calls: [{ id, name: 'notes__add', arguments: {} }],
});
const result = (id: string, content = 'ok'): LlmMessage => ({
  role: 'tool',
  tool_call_id: id,
  content,
});

describe('agent state', () => {
  it('restores a valid checkpoint and starts fresh from an unreadable one', () => {
    const logged: string[] = [];
    const saved = { version: 1, messages: [{ role: 'user', content: 'hi' }] };
    expect(restoreState(saved, (m) => logged.push(m))).toEqual({ state: saved, resumed: true });
    const fresh = restoreState({ version: 9 }, (m) => logged.push(m));
    expect(fresh.resumed).toBe(false);
    expect(fresh.state.messages).toHaveLength(1);
    expect(logged).toHaveLength(1);
  });

  it('finds the calls of the last assistant message that have no result yet', () => {
    const twoCalls: LlmMessage = {
      role: 'assistant',
      content: '',
      tool_calls: [
        { id: 'a', name: 'notes__add', arguments: {} },
        { id: 'b', name: 'notes__add', arguments: {} },
      ],
    };
    expect(pendingToolCalls([twoCalls, result('a')]).map((c) => c.id)).toEqual(['b']);
    expect(pendingToolCalls([twoCalls, result('a'), result('b')])).toEqual([]);
    expect(pendingToolCalls([{ role: 'user', content: 'go' }])).toEqual([]);
  });

  it('keeps the opening message and the latest turns, never starting at an orphaned tool result', () => {
    const messages: LlmMessage[] = [{ role: 'user', content: 'start' }];
    for (let i = 0; i < MAX_KEPT_MESSAGES; i++) messages.push(call(`c${i}`), result(`c${i}`));
    const bounded = boundState({ version: 1, messages });
    expect(bounded.messages[0]).toEqual({ role: 'user', content: 'start' });
    expect(bounded.messages.length).toBeLessThanOrEqual(MAX_KEPT_MESSAGES + 1);
    expect(bounded.messages[1]?.role).toBe('assistant');
    expect(bounded.messages.at(-1)).toEqual(result(`c${MAX_KEPT_MESSAGES - 1}`));
  });

  it('bounds the serialised size and each message', () => {
    const big = 'x'.repeat(MAX_MESSAGE_CHARS * 2);
    expect(boundMessage(result('a', big)).content.length).toBeLessThan(MAX_MESSAGE_CHARS + 100);
    const messages: LlmMessage[] = [{ role: 'user', content: 'start' }];
    for (let i = 0; i < 30; i++) {
      messages.push(call(`c${i}`), boundMessage(result(`c${i}`, big)));
    }
    const bounded = boundState({ version: 1, messages });
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(MAX_STATE_BYTES + 100);
    expect(bounded.messages[1]?.role).toBe('assistant');
  });
});
