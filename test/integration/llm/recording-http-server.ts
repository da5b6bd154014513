import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it. */
export type RecordedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
  /** The body exactly as it arrived (UTF-8): what a test asserts never left the host. */
  text: string;
  /** When it arrived (`Date.now()`), for tests that check a client waited long enough. */
  at: number;
};

/** What the test's handler answers; `delayMs` holds the answer back to test timeouts and aborts. */
export type CannedResponse = {
  status: number;
  body: unknown;
  delayMs?: number;
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
};

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers with what the
 * test's handler returns, so the real SDK client code runs end to end. Provider-specific
 * faithfulness (paths, headers, shapes) lives in each test's handler.
 */
export type RecordingServer = {
  url: string;
  requests: RecordedRequest[];
  close: () => Promise<void>;
};

export async function startRecordingServer(
  handle: (request: RecordedRequest) => CannedResponse,
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        text,
        at: Date.now(),
      };
      requests.push(recorded);
      const answer = handle(recorded);
      if (answer.delayMs === undefined) {
        send(res, answer);
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!res.destroyed) send(res, answer);
      }, answer.delayMs);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const t of pending) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((e) => {
          if (e === undefined) resolve();
          else reject(e);
        });
      });
    },
  };
}

function send(res: ServerResponse, answer: CannedResponse): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}
