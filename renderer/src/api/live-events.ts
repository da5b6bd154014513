import { createParser } from 'eventsource-parser';
import { streamEventSchema, type StreamEvent } from '../../../contracts/api.ts';
import { ApiError, type UiApiClient } from './api-client.ts';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

export type LiveStatus = 'connecting' | 'live' | 'retrying' | 'signed_out';

/**
 * The host's event stream (`GET /v1/events`), read with fetch so it can start after a given
 * chain seq (`Last-Event-ID`) instead of replaying the whole chain, and reconnected with
 * backoff from the last seq seen: nothing is lost or repeated across a host restart.
 */
export class LiveEvents {
  readonly #client: UiApiClient;
  readonly #listeners = new Set<(e: StreamEvent) => void>();
  readonly #statusListeners = new Set<(s: LiveStatus) => void>();
  #lastSeq: number;
  #abort: AbortController | undefined;
  #status: LiveStatus = 'connecting';

  constructor(client: UiApiClient, afterSeq: number) {
    this.#client = client;
    this.#lastSeq = afterSeq;
  }

  get status(): LiveStatus {
    return this.#status;
  }

  subscribe(listener: (e: StreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => void this.#statusListeners.delete(listener);
  }

  start(): void {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    void this.#loop(abort.signal);
  }

  stop(): void {
    this.#abort?.abort();
  }

  #setStatus(status: LiveStatus): void {
    this.#status = status;
    for (const l of this.#statusListeners) l(status);
  }

  async #loop(signal: AbortSignal): Promise<void> {
    let delay = FIRST_RETRY_MS;
    for (;;) {
      try {
        await this.#follow(signal, () => {
          delay = FIRST_RETRY_MS;
        });
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.#setStatus('signed_out');
          return;
        }
      }
      // Read through a call: the signal changes while the stream was followed.
      if (isAborted(signal)) return;
      this.#setStatus('retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }

  async #follow(signal: AbortSignal, onOpen: () => void): Promise<void> {
    const res = await this.#client.stream(
      'events',
      { headers: { 'last-event-id': String(this.#lastSeq) } },
      signal,
    );
    if (res.body === null) return;
    this.#setStatus('live');
    onOpen();
    const parser = createParser({
      onEvent: (message) => {
        const parsed = streamEventSchema.safeParse(JSON.parse(message.data));
        if (!parsed.success || parsed.data.seq <= this.#lastSeq) return;
        this.#lastSeq = parsed.data.seq;
        for (const l of this.#listeners) l(parsed.data);
      },
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return;
        parser.feed(chunk.value);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
