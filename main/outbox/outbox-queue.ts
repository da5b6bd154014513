import type { OutboundQueue } from '../../contracts/connector-adapter.ts';
import { idempotencyKeySchema, outboundContentSchema } from '../../contracts/outbox.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import { invalidInput } from '../errors.ts';
import { label } from '../policy/labels.ts';
import type { OutboxService } from './outbox-service.ts';

export type OutboxQueueDeps = {
  chain: CausalChain;
  outbox: OutboxService;
  /** Who the chain names for a send that no run asked for (the host itself). */
  actor: string;
  /** The attempts a message gets when no run's pack says otherwise. */
  maxAttempts: number;
};

/**
 * The connector adapters' `send`: the same door as an agent's `ccos__send_message` — judged by
 * the outbound gate, redacted, queued in its own transaction — so an adapter holds no way out
 * of the host that skips the gate. A refusal's `policy.decision` commits, then it throws.
 */
export function outboxQueue(deps: OutboxQueueDeps): OutboundQueue {
  return {
    enqueue: async (message) => {
      const content = outboundContentSchema.safeParse({
        text: message.content,
        ...(message.reply_to === null ? {} : { reply_to: message.reply_to }),
      });
      if (!content.success) throw invalidInput('outbound message', content.error.issues);
      // The key becomes a request header: only the outbox's own key alphabet goes there.
      const key = idempotencyKeySchema.safeParse(message.idempotency_key);
      if (!key.success) throw invalidInput('outbound idempotency key', key.error.issues);
      const sent = await deps.chain.transact((tx) =>
        deps.outbox.sendIn(tx, {
          connector_id: message.connector_id,
          channel_id: message.channel_id,
          content: content.data,
          label: label(message.content_label),
          idempotency_key: key.data,
          run_id: null,
          step_id: null,
          session_id: null,
          actor: deps.actor,
          max_attempts: deps.maxAttempts,
        }),
      );
      if (!sent.ok) throw sent.error;
      return { id: sent.message.id };
    },
  };
}
