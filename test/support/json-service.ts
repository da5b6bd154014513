import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a local JSON service received, read whole. */
export type JsonRequest = { method: string; url: string; body: string };

/** A running local service: its origin (for a skill's `base_url`) and its stop. */
export type JsonService = { origin: string; close: () => Promise<void> };

/**
 * A local stand-in on 127.0.0.1 for a service off this machine (a feed, a posting endpoint):
 * each request is read whole and answered 200 with `answer(request)` as JSON, so a test keeps
 * what it was sent and says what it answers.
 */
export async function startJsonService(
  answer: (request: JsonRequest) => unknown,
): Promise<JsonService> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const reply = answer({ method: req.method ?? 'GET', url: req.url ?? '/', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/** A local social service: what it was asked to publish, in order. */
export type SocialService = JsonService & { posts: unknown[] };

/**
 * A social service on 127.0.0.1: `POST /api/posts` publishes (kept in `posts`), `answers`
 * gives the reply of other paths by URL, and any other request reads a feed of one post.
 */
export async function startSocialService(
  post: { author: string; text: string },
  answers: Readonly<Record<string, unknown>> = {},
): Promise<SocialService> {
  const posts: unknown[] = [];
  const service = await startJsonService(({ method, url, body }) => {
    if (method === 'POST' && url === '/api/posts') {
      posts.push(JSON.parse(body) as unknown);
      return { id: posts.length };
    }
    return url in answers ? answers[url] : { posts: [post] };
  });
  return { ...service, posts };
}
