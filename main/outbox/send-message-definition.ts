import type { ToolDefinition } from '../../contracts/skills.ts';
import { BUILTIN_SKILL_ID } from '../skills/manifest/builtin-tools.ts';
import { toolName } from '../skills/manifest/tool-definitions.ts';

export const SEND_MESSAGE_OPERATION = 'send_message';
/** `ccos__send_message`: the agent's one way to send a message out of the host. */
export const SEND_MESSAGE_TOOL = toolName(BUILTIN_SKILL_ID, SEND_MESSAGE_OPERATION);

/** In the agent's tool list beside the other built-ins (the host adds it when it has an outbox). */
export const SEND_MESSAGE_BUILTIN_TOOL: ToolDefinition = {
  name: SEND_MESSAGE_TOOL,
  description:
    "Send a message to a connector channel (a chat, a webhook). To answer a message, give its message_id as reply_to_message: the host sends to that message's channel. Otherwise name connector_id and channel_id; a run may send only to its own session's channel unless its policy pack lists another. It is queued and delivered at least once, retried if the receiver is down. Only public or pii.redacted content may be sent: summarize or redact personal data first; secrets are refused.",
  parameters: {
    type: 'object',
    properties: {
      connector_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 },
      channel_id: { type: 'string', minLength: 1, maxLength: 200 },
      reply_to_message: {
        type: 'string',
        minLength: 1,
        maxLength: 100,
        description:
          'the message_id (from a message envelope) this answers; replaces connector_id and channel_id',
      },
      text: { type: 'string', minLength: 1, maxLength: 16000 },
      reply_to: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'the id of the message this answers',
      },
      idempotency_key: {
        type: 'string',
        pattern: '^[A-Za-z0-9._:-]{8,200}$',
        description: 'the same key sends at most one message; derived from this step when absent',
      },
    },
    required: ['text'],
    additionalProperties: false,
  },
  skill_id: BUILTIN_SKILL_ID,
  operation_id: SEND_MESSAGE_OPERATION,
  approval: 'never',
};
