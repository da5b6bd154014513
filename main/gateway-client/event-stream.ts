import { createParser } from 'eventsource-parser';
import { streamEventSchema, type StreamEvent } from '../../contracts/api.ts';
import { AppError } from '../errors.ts';
import type { ApiClient } from './api-client.ts';

/**
 * Reads `GET /v1/events` as a client: every event after `afterSeq` (the server replays what
 * was missed, then follows live), each parsed with the contract's schema, until `onEvent`
 * returns `'stop'` or `signal` aborts. Resolves when the stream ends.
 */
export async function followEvents(
  client: ApiClient,
  options: {
    afterSeq: number;
    signal?: AbortSignal;
    onEvent: (event: StreamEvent) => 'stop' | undefined | Promise<'stop' | undefined>;
  },
): Promise<void> {
  const res = await client.stream(
    'events',
    {
      headers: { 'last-event-id': String(options.afterSeq) },
    },
    options.signal,
  );
  const body = res.body;
  if (body === null) return;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: StreamEvent[] = [];
  const parser = createParser({
    onEvent: (message) => {
      const parsed = streamEventSchema.safeParse(JSON.parse(message.data));
      if (!parsed.success) throw new AppError('INTERNAL', 'the host sent a malformed event');
      queue.push(parsed.data);
    },
  });
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      parser.feed(chunk.value);
      while (queue.length > 0) {
        const event = queue.shift();
        if (event !== undefined && (await options.onEvent(event)) === 'stop') return;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
