import type { SSEStreamingApi } from 'hono/streaming';
import { STREAMED_EVENT_TYPES, type StreamEvent } from '../../../contracts/api.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Principal } from '../../auth/token-service.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import { hasPassed } from '../../instant.ts';
import type { TaskLimit } from '../../task-limit.ts';

/** Entries read from the chain per replay page: small, so no one page holds the store long. */
export const REPLAY_PAGE = 100;
/**
 * Live entries buffered for one client before it is switched back to reading from the chain:
 * a client that does not keep up costs bounded memory, and misses nothing.
 */
export const LIVE_BUFFER_MAX = 1000;
/** setTimeout's largest delay; a longer-lived token is checked again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const STREAMED = new Set<string>(STREAMED_EVENT_TYPES);

export type EventStreamDeps = {
  chain: CausalChain;
  /** Whether the stream's credential (a token, or a browser session) still holds. */
  standing: () => Promise<CredentialStanding>;
  /** Calls back when a browser session signs out; returns the way to stop listening. */
  onSignOut?: (ended: () => void) => () => void;
  clock: Clock;
  keepAliveMs: number;
  /** Host-wide bound on replay pages being read at once, so replays never crowd the store. */
  replayReads: TaskLimit;
  /** Whether this client may see an entry (admins: all; others: their runs' entries). */
  visible: (entry: ChainEntry) => Promise<boolean>;
  /** What a frame adds to an entry's data (a published message's text); none when absent. */
  frameData?: (entry: ChainEntry) => Promise<Record<string, unknown> | undefined>;
  /** Drops the connection at once: for a client that stopped reading when its stream must end. */
  destroy: () => void;
  /** True while the connection has more unsent data than its buffer holds (the client lags). */
  lagging: () => boolean;
};

export type CredentialStanding = 'valid' | 'revoked' | 'expired';

type EndReason = 'token revoked' | 'token expired' | 'signed out';

/**
 * One client's `GET /v1/events` (issue 3; issue 17 #18, #30). Entries after `afterSeq` are
 * replayed from the chain in small pages, each read under the host-wide replay limit and
 * followed by a turn of the event loop, and each write waits for this client's connection to
 * take it: a slow or stopped reader holds up only itself. Live entries arrive through a chain
 * subscription taken before the replay (nothing falls in between); past `LIVE_BUFFER_MAX`
 * unsent ones the buffer is dropped and the client reads from the chain again. The stream
 * ends when its token is revoked or expires: gracefully with a closing comment, or by
 * dropping the connection when the client is not reading.
 */
export class EventStreamSession {
  readonly #deps: EventStreamDeps;
  readonly #stream: SSEStreamingApi;
  readonly #principal: Principal;
  #sent: number;
  #live: ChainEntry[] = [];
  /** Read from the chain (again) before following live entries. */
  #catchingUp = true;
  #ending: EndReason | undefined;
  #writing = false;
  #wake: (() => void) | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    deps: EventStreamDeps,
    stream: SSEStreamingApi,
    principal: Principal,
    afterSeq: number,
  ) {
    this.#deps = deps;
    this.#stream = stream;
    this.#principal = principal;
    this.#sent = afterSeq;
  }

  /** Serves the stream until the client leaves, the host stops, or the token ends. */
  async run(): Promise<void> {
    const subscription = this.#deps.chain.subscribe((entries) => {
      this.#hear(entries);
    });
    this.#stream.onAbort(() => {
      this.#wake?.();
    });
    const stopWatchingSignOut = this.#deps.onSignOut?.(() => {
      this.#end('signed out');
    });
    try {
      // Checked again once listening: a revocation before the subscription is not missed.
      const standing = await this.#deps.standing();
      if (standing !== 'valid') this.#end(`token ${standing}`);
      this.#armExpiry();
      while (!this.#stream.aborted) {
        if (this.#expired()) this.#end('token expired');
        if (this.#ending !== undefined) {
          await this.#close(this.#ending);
          return;
        }
        if (this.#catchingUp) {
          await this.#replayPage();
          continue;
        }
        const batch = this.#live.splice(0);
        for (const entry of batch) {
          if (this.#stopping()) break;
          await this.#send(entry);
        }
        if (batch.length === 0) await this.#idle();
      }
    } finally {
      clearTimeout(this.#expiryTimer);
      stopWatchingSignOut?.();
      await subscription.dispose();
    }
  }

  #hear(entries: readonly ChainEntry[]): void {
    for (const entry of entries) {
      if (
        entry.event_type === 'token.revoked' &&
        entry.data.token_id === this.#principal.token_id
      ) {
        this.#end('token revoked');
        return;
      }
    }
    if (!this.#catchingUp) {
      this.#live.push(...entries);
      if (this.#live.length > LIVE_BUFFER_MAX) {
        // Everything is on the chain: drop the buffer and read from there, in pages.
        this.#live = [];
        this.#catchingUp = true;
      }
    }
    this.#wake?.();
  }

  /** One page of the chain after what was sent; the end of the chain ends the catch-up. */
  async #replayPage(): Promise<void> {
    // Listen before reading, so an entry committed after the read is buffered, not lost.
    this.#catchingUp = false;
    this.#live = [];
    // A client that left (or a host stopping) while queued for a read costs no read.
    const page = await this.#deps.replayReads.run(() =>
      this.#stopping()
        ? Promise.resolve({ entries: [], next_after_seq: null })
        : this.#deps.chain.query({ after_seq: this.#sent, limit: REPLAY_PAGE }),
    );
    for (const entry of page.entries) {
      if (this.#stopping()) return;
      await this.#send(entry);
    }
    if (page.next_after_seq !== null) {
      this.#catchingUp = true;
      // A turn of the event loop between pages: replays never starve other work.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #send(entry: ChainEntry): Promise<void> {
    if (entry.seq <= this.#sent) return;
    if (STREAMED.has(entry.event_type) && (await this.#deps.visible(entry))) {
      const extra = await this.#deps.frameData?.(entry);
      this.#writing = true;
      try {
        await this.#stream.write(frameOf(entry, extra));
      } finally {
        this.#writing = false;
      }
    }
    this.#sent = entry.seq;
  }

  /** Waits for a live entry, the keep-alive interval, or the end of the stream. */
  async #idle(): Promise<void> {
    const woke = new Promise<boolean>((resolve) => {
      this.#wake = () => {
        resolve(false);
      };
    });
    const timedOut = await Promise.race([
      woke,
      this.#stream.sleep(this.#deps.keepAliveMs).then(() => true),
    ]);
    this.#wake = undefined;
    // A comment line keeps proxies and idle timeouts from closing a quiet stream.
    if (timedOut && !this.#stream.aborted && this.#ending === undefined) {
      await this.#stream.write(': keep-alive\n\n');
    }
  }

  #end(reason: EndReason): void {
    this.#ending ??= reason;
    // A write the client is not taking would never return: drop the connection instead.
    if (this.#writing) this.#deps.destroy();
    else this.#wake?.();
  }

  async #close(reason: EndReason): Promise<void> {
    if (this.#deps.lagging()) {
      this.#deps.destroy();
      return;
    }
    await this.#stream.write(`: closed: ${reason}\n\n`);
  }

  /** The client left, the host is stopping, or the token ended: send nothing more. */
  #stopping(): boolean {
    return this.#stream.aborted || this.#ending !== undefined;
  }

  #expired(): boolean {
    const expiresAt = this.#principal.expires_at;
    return expiresAt !== null && hasPassed(expiresAt, this.#deps.clock.now());
  }

  #armExpiry(): void {
    const expiresAt = this.#principal.expires_at;
    if (expiresAt === null) return;
    const left = Date.parse(expiresAt) - this.#deps.clock.now().getTime();
    this.#expiryTimer = setTimeout(
      () => {
        if (this.#expired()) this.#end('token expired');
        else this.#armExpiry();
      },
      Math.min(Math.max(0, left), MAX_TIMER_MS),
    );
  }
}

/**
 * One entry as an SSE frame. `event` is a chain event type and JSON has no raw line breaks,
 * so each field is one line.
 */
function frameOf(entry: ChainEntry, extra?: Record<string, unknown>): string {
  const event: StreamEvent = {
    seq: entry.seq,
    event_type: entry.event_type,
    timestamp: entry.timestamp,
    session_id: entry.session_id,
    run_id: entry.run_id,
    data: extra === undefined ? entry.data : { ...entry.data, ...extra },
  };
  return `event: ${entry.event_type}\ndata: ${JSON.stringify(event)}\nid: ${entry.seq}\n\n`;
}
