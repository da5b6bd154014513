import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The tool the slow skill offers: one HTTP GET to the test's server per call. */
export const SLOW_WAIT = 'slow__wait';

/**
 * A loopback HTTP server the slow skill calls, so a test knows exactly when a tool call is
 * in flight and decides when it ends: `hold()` makes the next requests wait until
 * `release()`; `delayMs` slows every answer.
 */
export type SlowServer = {
  origin: string;
  /** Requests received so far. */
  readonly hits: number;
  /** Resolves when the next request arrives (or at once if one is being held). */
  nextHit: () => Promise<void>;
  /** Hold answers from now on until `release()`. */
  hold: () => void;
  release: () => void;
  delayMs: number;
  close: () => Promise<void>;
};

export async function startSlowServer(): Promise<SlowServer> {
  let holding = false;
  let held: ServerResponse[] = [];
  let waiters: (() => void)[] = [];
  let hits = 0;
  const answer = (res: ServerResponse): void => {
    if (!res.writableEnded && !res.destroyed) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    }
  };
  const state = { delayMs: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits++;
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();
    req.resume();
    if (holding) {
      held.push(res);
      return;
    }
    if (state.delayMs > 0)
      setTimeout(() => {
        answer(res);
      }, state.delayMs);
    else answer(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get hits() {
      return hits;
    },
    nextHit: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
      }),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      const waiting = held;
      held = [];
      for (const res of waiting) answer(res);
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    close: async () => {
      holding = false;
      for (const res of held) res.destroy();
      held = [];
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/**
 * Writes the `slow` skill into a temporary folder: `wait` GETs `<origin>/wait` and returns
 * the status. Declares `net.http` with `approval: never`, so no pack asks about it.
 */
export async function writeSlowSkill(
  origin: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ccos-slow-skill-'));
  const manifest = {
    skill_id: 'slow',
    version: '1.0.0',
    name: 'Slow',
    description: 'Waits for a loopback test server to answer.',
    entry: 'index.js',
    operations: [
      {
        id: 'wait',
        description: 'Wait for the test server.',
        input_schema: { type: 'object', additionalProperties: false },
        capabilities: ['net.http'],
        approval: 'never',
      },
    ],
    permissions: { egress: [{ origin, methods: ['GET'] }], secrets: [], memory_namespaces: [] },
  };
  await writeFile(path.join(dir, 'skill.json'), JSON.stringify(manifest));
  await writeFile(
    path.join(dir, 'index.js'),
    `export async function wait() {
  const res = await ccos.http.fetch({ url: ${JSON.stringify(`${origin}/wait`)} });
  return { status: res.status };
}
`,
  );
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
