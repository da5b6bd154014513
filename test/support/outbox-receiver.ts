import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver answers to one request: a status (and headers), or no answer at all. */
export type ReceiverAnswer =
  | {
      status: number;
      headers?: Record<string, string>;
      /** Takes the message whatever the status says (an answer that is lost on the way back). */
      accept?: boolean;
    }
  | 'hang';

/** One request the receiver saw. */
export type ReceivedRequest = { key: string | undefined; body: unknown };

/**
 * A real HTTP receiver on 127.0.0.1 that dedupes by `Idempotency-Key` as a well-behaved one
 * should: `accepted` holds each key once, at the first request it answered 2xx.
 */
export type OutboxReceiver = {
  url: string;
  requests: ReceivedRequest[];
  accepted: Map<string, number>;
  /** Resolves at the next request that arrives (after the answer is decided). */
  nextRequest: () => Promise<ReceivedRequest>;
  /** Answers every request hanging so far (with 200), so a timed-out test can end. */
  releaseHanging: () => void;
  close: () => Promise<void>;
};

export async function startOutboxReceiver(
  answer: (request: ReceivedRequest, index: number) => ReceiverAnswer,
): Promise<OutboxReceiver> {
  const requests: ReceivedRequest[] = [];
  const accepted = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  let waiters: ((r: ReceivedRequest) => void)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = req.headers['idempotency-key'];
      const key = typeof header === 'string' ? header : undefined;
      const request: ReceivedRequest = {
        key,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
      };
      const decided = answer(request, requests.length);
      requests.push(request);
      if (decided === 'hang') hanging.push(res);
      else {
        const takes = decided.accept ?? (decided.status >= 200 && decided.status < 300);
        if (takes && key !== undefined && !accepted.has(key))
          accepted.set(key, requests.length - 1);
        res.writeHead(decided.status, decided.headers).end();
      }
      const ready = waiters;
      waiters = [];
      for (const w of ready) w(request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    accepted,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    releaseHanging: () => {
      for (const res of hanging.splice(0)) {
        if (!res.destroyed) res.writeHead(200).end();
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A webhook connector's adapter configuration whose outbound messages go to `url`. */
export function webhookTo(url: string): Record<string, unknown> {
  return {
    adapter: 'webhook',
    inbound_auth: { mode: 'hmac' },
    template: { goal: 'Answer the message' },
    outbound_url: url,
  };
}
