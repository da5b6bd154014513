import type { Clock } from '../clock.ts';

/** How many refusals per connector get their own chain entry in one window. */
export type RefusalAuditLimitSettings = { per_window: number; window_ms: number };

/**
 * Generous for a misconfigured sender (every refusal of a broken signature is seen), small
 * enough that a flood of unauthenticated requests cannot grow the chain by one entry each.
 */
export const DEFAULT_REFUSAL_AUDIT_LIMIT: RefusalAuditLimitSettings = {
  per_window: 30,
  window_ms: 60_000,
};

/** The one key that all ids naming no configured connector share, so keys stay bounded. */
export const UNKNOWN_CONNECTOR_KEY = '(unknown connector)';

/** Refusals that were counted instead of recorded one by one. */
export type SuppressedRefusals = { key: string; count: number; since: number };

type Window = { started: number; audited: number; suppressed: number };

/**
 * Decides which inbound refusals are recorded one by one. The first `per_window` of a window
 * are; the rest are counted, and the count is handed back — for its own chain entry — by the
 * first refusal of a later window or by `drain` at host stop, so a flood is never silent.
 * Only the audit is limited: every request is still authenticated and refused, and a valid
 * message during a flood is accepted as usual.
 */
export class RefusalAuditLimit {
  readonly #clock: Clock;
  readonly #settings: RefusalAuditLimitSettings;
  readonly #windows = new Map<string, Window>();

  constructor(clock: Clock, settings: RefusalAuditLimitSettings = DEFAULT_REFUSAL_AUDIT_LIMIT) {
    this.#clock = clock;
    this.#settings = settings;
  }

  /** Whether this refusal gets its own entry, and what an ended window left uncounted. */
  admit(key: string): { audit: true; suppressed: SuppressedRefusals | null } | { audit: false } {
    const now = this.#clock.now().getTime();
    const current = this.#windows.get(key);
    if (current === undefined || now - current.started >= this.#settings.window_ms) {
      this.#windows.set(key, { started: now, audited: 1, suppressed: 0 });
      return { audit: true, suppressed: suppressedOf(key, current) };
    }
    if (current.audited < this.#settings.per_window) {
      current.audited += 1;
      return { audit: true, suppressed: null };
    }
    current.suppressed += 1;
    return { audit: false };
  }

  /** Every count not yet recorded; forgets them. */
  drain(): SuppressedRefusals[] {
    const left = [...this.#windows]
      .map(([key, w]) => suppressedOf(key, w))
      .filter((s): s is SuppressedRefusals => s !== null);
    this.#windows.clear();
    return left;
  }
}

function suppressedOf(key: string, window: Window | undefined): SuppressedRefusals | null {
  if (window === undefined || window.suppressed === 0) return null;
  return { key, count: window.suppressed, since: window.started };
}
