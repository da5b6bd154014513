import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { newId } from '../../clock.ts';

/** How long a login link may wait to be opened. */
const LOGIN_CODE_TTL_MS = 5 * 60_000;
/** A browser session's absolute lifetime: after it, `ccos open` prints a new link. */
const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Upper bounds, so a caller minting links in a loop cannot grow the host's memory. */
const MAX_PENDING_CODES = 64;
const MAX_SESSIONS = 64;
const SECRET_BYTES = 32;

/** One signed-in browser (or Electron window). */
export type UiSession = {
  /** Public id, for the audit trail; never the cookie value. */
  id: string;
  /** Sent back by the page on every state-changing request (`x-ccos-csrf`). */
  csrfToken: string;
  expiresAt: Date;
};

type Pending = { expiresAt: Date };

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/**
 * Browser sessions of the UI (issue 24): a one-time login code, printed by `ccos open` or
 * handed to the Electron window, is exchanged for a session secret that lives only in an
 * HttpOnly cookie. Only SHA-256 digests of codes and session secrets are kept, in memory:
 * a host restart signs every browser out, which is the safe direction, and nothing about a
 * browser session reaches the database or the data dir.
 */
export class UiSessions {
  readonly #clock: Clock;
  readonly #codes = new Map<string, Pending>();
  readonly #sessions = new Map<string, UiSession>();
  /** Called with a session's id when it ends (sign-out, eviction), e.g. to close its streams. */
  readonly #endListeners = new Map<string, Set<() => void>>();

  constructor(deps: { clock: Clock }) {
    this.#clock = deps.clock;
  }

  /** A fresh one-time login code. */
  issueLoginCode(): { code: string; expiresAt: Date } {
    this.#prune();
    // Oldest first (Map keeps insertion order): an unopened old link is the one to drop.
    while (this.#codes.size >= MAX_PENDING_CODES) {
      const oldest = this.#codes.keys().next().value;
      if (oldest === undefined) break;
      this.#codes.delete(oldest);
    }
    const code = randomBytes(SECRET_BYTES).toString('base64url');
    const expiresAt = new Date(this.#clock.now().getTime() + LOGIN_CODE_TTL_MS);
    this.#codes.set(digest(code), { expiresAt });
    return { code, expiresAt };
  }

  /**
   * Exchanges a login code for a session, at most once: the code is deleted before the
   * session exists, so a replayed link (browser history, a shoulder-surfed terminal) fails.
   */
  redeem(code: string): { secret: string; session: UiSession } | undefined {
    this.#prune();
    const key = digest(code);
    const pending = this.#codes.get(key);
    if (pending === undefined) return undefined;
    this.#codes.delete(key);
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const session: UiSession = {
      id: newId('uis'),
      csrfToken: randomBytes(SECRET_BYTES).toString('base64url'),
      expiresAt: new Date(this.#clock.now().getTime() + SESSION_TTL_MS),
    };
    this.#sessions.set(digest(secret), session);
    return { secret, session };
  }

  /** The live session a cookie value names, or undefined. */
  lookup(secret: string): UiSession | undefined {
    const session = this.#sessions.get(digest(secret));
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#clock.now()) {
      this.#drop(digest(secret));
      return undefined;
    }
    return session;
  }

  /** Signs a browser out; its cookie stops working at once. */
  end(secret: string): void {
    this.#drop(digest(secret));
  }

  /** Whether the session with this public id is still signed in. */
  isLive(id: string): boolean {
    for (const session of this.#sessions.values())
      if (session.id === id) return session.expiresAt > this.#clock.now();
    return false;
  }

  /** Calls `listener` once when the session with this id ends; returns the way to stop. */
  onEnd(id: string, listener: () => void): () => void {
    let listeners = this.#endListeners.get(id);
    if (listeners === undefined) {
      listeners = new Set();
      this.#endListeners.set(id, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#endListeners.delete(id);
    };
  }

  #drop(key: string): void {
    const session = this.#sessions.get(key);
    this.#sessions.delete(key);
    if (session === undefined) return;
    const listeners = this.#endListeners.get(session.id);
    this.#endListeners.delete(session.id);
    for (const listener of listeners ?? []) listener();
  }

  /** Constant-time check of a presented CSRF token against the session's. */
  static csrfMatches(session: UiSession, presented: string | undefined): boolean {
    if (presented === undefined) return false;
    const a = Buffer.from(session.csrfToken);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #prune(): void {
    const now = this.#clock.now();
    for (const [key, pending] of this.#codes) if (pending.expiresAt <= now) this.#codes.delete(key);
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#drop(key);
  }
}
