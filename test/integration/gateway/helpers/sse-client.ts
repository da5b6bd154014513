/** One server-sent event as the wire gave it. */
export type SseEvent = { id: string | undefined; event: string | undefined; data: string };

/** A test's view of an open `text/event-stream`: events in order, then close. */
export type SseStream = {
  status: number;
  headers: Headers;
  /** The next event, or a rejection after `timeoutMs`. */
  next: (timeoutMs?: number) => Promise<SseEvent>;
  /** Events until `until` returns true for one (inclusive). */
  collectUntil: (until: (e: SseEvent) => boolean, timeoutMs?: number) => Promise<SseEvent[]>;
  /** Whatever arrives within `ms` (for "nothing more came"). */
  drain: (ms: number) => Promise<SseEvent[]>;
  /** Comment lines seen so far (keep-alives). */
  comments: string[];
  /**
   * Resolves once the server has ended the stream (cleanly: `'ended'`, or by dropping the
   * connection: `'dropped'`); rejects after `timeoutMs`.
   */
  ended: (timeoutMs?: number) => Promise<'ended' | 'dropped'>;
  close: () => void;
};

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Opens an SSE stream with fetch and parses its body as the WHATWG event-stream format
 * says: events end at a blank line, `field: value` lines, `:` comments, CR/LF/CRLF.
 */
export async function openSse(
  url: string,
  options: { token?: string; cookie?: string; lastEventId?: string | number },
): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
      ...(options.lastEventId === undefined
        ? {}
        : { 'last-event-id': String(options.lastEventId) }),
    },
    signal: abort.signal,
  });
  const queue: SseEvent[] = [];
  const comments: string[] = [];
  let waiter: (() => void) | undefined;
  let ended = false;
  let failure: unknown;

  const pump = async (): Promise<void> => {
    if (res.body === null) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let current: { id?: string; event?: string; data: string[] } = { data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (current.data.length > 0) {
            queue.push({ id: current.id, event: current.event, data: current.data.join('\n') });
            waiter?.();
          }
          current = { data: [] };
        } else if (line.startsWith(':')) {
          comments.push(line.slice(1).trim());
        } else {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const raw = colon === -1 ? '' : line.slice(colon + 1);
          const v = raw.startsWith(' ') ? raw.slice(1) : raw;
          if (field === 'data') current.data.push(v);
          else if (field === 'id') current.id = v;
          else if (field === 'event') current.event = v;
        }
      }
    }
  };
  const finished = pump()
    .then(
      () => 'ended' as const,
      (e: unknown) => {
        if (!abort.signal.aborted) failure = e;
        return 'dropped' as const;
      },
    )
    .finally(() => {
      ended = true;
      waiter?.();
    });

  const next = async (timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SseEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = queue.shift();
      if (event !== undefined) return event;
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error('the event stream failed');
      if (ended) throw new Error('the event stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiter = undefined;
    }
  };

  return {
    status: res.status,
    headers: res.headers,
    next,
    collectUntil: async (until, timeoutMs = DEFAULT_TIMEOUT_MS) => {
      const got: SseEvent[] = [];
      for (;;) {
        const event = await next(timeoutMs);
        got.push(event);
        if (until(event)) return got;
      }
    },
    drain: async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return queue.splice(0);
    },
    comments,
    ended: (timeoutMs = DEFAULT_TIMEOUT_MS) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`the stream did not end within ${timeoutMs} ms`));
        }, timeoutMs);
        void finished.then((how) => {
          clearTimeout(timer);
          resolve(how);
        });
      }),
    close: () => {
      abort.abort();
    },
  };
}
