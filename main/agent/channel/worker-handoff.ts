import type { Readable } from 'node:stream';
import {
  WORKER_HANDOFF_MAX_BYTES,
  workerHandoffSchema,
  type WorkerHandoff,
} from '../../../contracts/agent-channel.ts';

export type { WorkerHandoff };

const NEWLINE = 0x0a;

/** The hand-off as the line the host writes to the worker's stdin. */
export function encodeHandoff(handoff: WorkerHandoff): string {
  return `${JSON.stringify(workerHandoffSchema.parse({ ccos_handoff: handoff }))}\n`;
}

/**
 * The worker's side: reads exactly one hand-off line from `input` and leaves everything after
 * it unread for the channel (pushed back, stream paused). Rejects when the stream ends first,
 * the line is over `WORKER_HANDOFF_MAX_BYTES`, or it is not a hand-off.
 */
export function readHandoff(input: Readable): Promise<WorkerHandoff> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
    };
    const fail = (why: string): void => {
      stop();
      reject(new Error(`no hand-off from the host: ${why}`));
    };
    const onData = (chunk: Buffer | string): void => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const newline = data.indexOf(NEWLINE);
      const head = newline === -1 ? data : data.subarray(0, newline);
      size += head.length;
      if (size > WORKER_HANDOFF_MAX_BYTES) {
        fail(`the first line exceeds ${String(WORKER_HANDOFF_MAX_BYTES)} bytes`);
        return;
      }
      chunks.push(head);
      if (newline === -1) return;
      stop();
      const rest = data.subarray(newline + 1);
      if (rest.length > 0) input.unshift(rest);
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(new Error('no hand-off from the host: the first line is not JSON'));
        return;
      }
      const handoff = workerHandoffSchema.safeParse(parsed);
      if (handoff.success) resolve(handoff.data.ccos_handoff);
      else reject(new Error('no hand-off from the host: the first line is not a hand-off'));
    };
    const onEnd = (): void => {
      fail('stdin ended');
    };
    const onError = (e: Error): void => {
      fail(e.message);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}
