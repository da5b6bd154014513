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
    'Send a message to a connector channel (a chat, a webhook). It is queued and delivered at least once, retried if the receiver is down. Only public or pii.redacted content may be sent: summarize or redact personal data first; secrets are refused.',
  parameters: {
    type: 'object',
    properties: {
      connector_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 },
      channel_id: { type: 'string', minLength: 1, maxLength: 200 },
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
    required: ['connector_id', 'channel_id', 'text'],
    additionalProperties: false,
  },
  skill_id: BUILTIN_SKILL_ID,
  operation_id: SEND_MESSAGE_OPERATION,
  approval: 'never',
};
