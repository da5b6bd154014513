import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../../contracts/api.ts';
import type { ChatMessage } from '../../../../contracts/chat.ts';
import {
  channelNameProblem,
  isSendKey,
  mergeConversation,
  replyOfFrame,
  roadText,
} from '../../../../renderer/src/chat/chat-facts.ts';

const frame = (data: Record<string, unknown>, type = 'message.outbound'): StreamEvent =>
  ({
    seq: 7,
    event_type: type,
    timestamp: '2026-12-04T10:00:02.000Z',
    session_id: 'ses_1',
    run_id: 'run_1',
    data,
  }) as StreamEvent;
const published = {
  outbox_id: 'obx_1',
  connector_id: 'local-chat',
  channel_id: 'kitchen',
  idempotency_key: 'k',
  attempt: 1,
  content_sha256: 'ab',
  text: 'Here is the plan',
};
const mine: ChatMessage = {
  direction: 'inbound',
  id: 'msg_1',
  client_id: 'ui-1',
  at: '2026-12-04T10:00:00.000Z',
  text: 'plan dinner',
  text_gone: null,
  seen_through: [],
  state: 'routed',
  run_id: 'run_1',
};

describe("the Chat page's facts", () => {
  it('takes a live reply only from a message.outbound frame of this very conversation', () => {
    expect(replyOfFrame(frame(published), 'local-chat', 'kitchen')).toEqual({
      direction: 'outbound',
      id: 'obx_1',
      at: '2026-12-04T10:00:02.000Z',
      text: 'Here is the plan',
      reply_to: null,
      state: 'delivered',
      run_id: 'run_1',
    });
    expect(replyOfFrame(frame(published), 'local-chat', 'garden')).toBeUndefined();
    expect(replyOfFrame(frame(published), 'other-chat', 'kitchen')).toBeUndefined();
    expect(
      replyOfFrame(frame(published, 'outbox.queued'), 'local-chat', 'kitchen'),
    ).toBeUndefined();
    // A pruned row's frame carries no text: nothing to show rather than an empty bubble.
    const pruned: Record<string, unknown> = { ...published, pruned: true };
    delete pruned.text;
    expect(replyOfFrame(frame(pruned), 'local-chat', 'kitchen')).toBeUndefined();
  });

  it('merges live replies into the history once, in time order', () => {
    const reply = replyOfFrame(frame(published), 'local-chat', 'kitchen');
    if (reply === undefined) throw new Error('no reply');
    const early: ChatMessage = { ...reply, id: 'obx_0', at: '2026-12-04T09:00:00.000Z' };
    expect(mergeConversation([mine], [reply, early]).map((m) => m.id)).toEqual([
      'obx_0',
      'msg_1',
      'obx_1',
    ]);
    // Read again, the history holds the reply: it is shown once.
    expect(mergeConversation([mine, reply], [reply]).map((m) => m.id)).toEqual(['msg_1', 'obx_1']);
  });

  it('names the transforms the agent read a message through, never as if it saw the text', () => {
    expect(roadText([])).toBeNull();
    const view = {
      capability_id: 'ccos.transform.summarize',
      label: ['pii.redacted'],
      run_id: 'run_1',
      at: '2026-12-04T10:00:01.000Z',
    };
    expect(roadText([view, { ...view, run_id: 'run_2' }])).toBe(
      'The agent never saw this text; it read it through summarize (pii.redacted).',
    );
  });

  it('sends on Enter alone, never on Shift+Enter or while an input method composes', () => {
    expect(isSendKey({ key: 'Enter', shiftKey: false })).toBe(true);
    expect(isSendKey({ key: 'Enter', shiftKey: true })).toBe(false);
    expect(isSendKey({ key: 'Enter', shiftKey: false, isComposing: true })).toBe(false);
    expect(isSendKey({ key: 'a', shiftKey: false })).toBe(false);
  });

  it('refuses a conversation name the API would refuse', () => {
    expect(channelNameProblem('kitchen')).toBeNull();
    expect(channelNameProblem('has space')).toMatch(/without spaces/);
    expect(channelNameProblem('')).not.toBeNull();
    expect(channelNameProblem('x'.repeat(201))).not.toBeNull();
  });
});
