import { KnownValues, type KnownValueHandle } from './known-values.ts';

export type { KnownValueHandle } from './known-values.ts';

/** What replaces a redacted value; names the layer that caught it, never the value. */
export const REDACTED_SECRET = '[REDACTED:secret]';
export const REDACTED_PATTERN = '[REDACTED:credential]';

/**
 * Shortest known value the redactor replaces (and the secret store accepts): shorter ones
 * would shred ordinary text, and their encoded forms would match by chance.
 */
export const MIN_KNOWN_LENGTH = 8;
const MAX_DEPTH = 20;

/**
 * Credential shapes masked wherever they appear, even when the value is unknown to the
 * host (a key pasted into a goal, a token echoed by a remote API).
 */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bccos\.tok_[0-9a-f]{32}\.[A-Za-z0-9_-]{20,}/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g,
  /\bmoltbook_[A-Za-z0-9_-]{8,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
];

/** Field names whose string values are credentials whatever they look like. */
const AUTH_FIELD =
  /(^|[_-])(authorization|auth|token|secret|password|passwd|api[_-]?key|cookie|credential|session[_-]?key|private[_-]?key)s?$/i;
/** Reads camelCase names (`accessToken`, `clientSecret`) as snake_case for `AUTH_FIELD`. */
function isAuthField(field: string): boolean {
  return AUTH_FIELD.test(field.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}
/** In an auth-like field, a long run of key-ish characters is masked. */
const HIGH_ENTROPY = /^[A-Za-z0-9+/=._~-]{16,}$/;

/**
 * Redaction on write (ARCHITECTURE.md §10), two layers: every known secret value (secret
 * store values, tokens minted by this host) is replaced wherever it appears, then
 * credential patterns are masked. Applied to logs, chain entries, step summaries and
 * error messages before they are stored or sent.
 */
export class Redactor {
  readonly #known = new KnownValues();

  /**
   * Replaces `value` (and its hex, URL-encoded and base64 forms) from now on, until the
   * returned handle is disposed: a revoked token is dropped, so the set stays as large as
   * what is live, not everything ever minted. Values shorter than `MIN_KNOWN_LENGTH` are
   * ignored (the secret store refuses them).
   */
  addKnownValue(value: string): KnownValueHandle {
    if (value.length < MIN_KNOWN_LENGTH) return { dispose: () => undefined };
    return this.#known.add(value);
  }

  /** How many distinct values are known (for the bound on its size). */
  get knownValueCount(): number {
    return this.#known.size;
  }

  /** How many times the known values' matcher was built (for the bound on churn cost). */
  get knownMatcherBuilds(): number {
    return this.#known.builds;
  }

  redactString(text: string): string {
    let out = this.#known.replace(text, REDACTED_SECRET);
    for (const pattern of CREDENTIAL_PATTERNS) out = out.replace(pattern, REDACTED_PATTERN);
    return out;
  }

  /** Whether `text` holds a known value in any of its forms. */
  holdsKnownValue(text: string): boolean {
    return this.#known.test(text);
  }

  /** A redacted deep copy of a JSON-like value; auth-like fields are masked by name too. */
  redactValue<T>(value: T): T {
    return this.#redact(value, undefined, 0) as T;
  }

  #redact(value: unknown, field: string | undefined, depth: number): unknown {
    if (typeof value === 'string') {
      const redacted = this.redactString(value);
      if (field !== undefined && isAuthField(field) && HIGH_ENTROPY.test(redacted))
        return REDACTED_PATTERN;
      return redacted;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return '[REDACTED:too-deep]';
    if (Array.isArray(value)) return value.map((v) => this.#redact(v, field, depth + 1));
    // What JSON.stringify would write (a Date's time), not its empty set of own fields.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function')
      return this.#redact(toJSON.call(value) as unknown, field, depth + 1);
    if (value instanceof Error) {
      return {
        name: value.name,
        message: this.redactString(value.message),
        ...this.#fields(value, depth),
      };
    }
    return this.#fields(value, depth);
  }

  #fields(value: object, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const redacted = this.#redact(v, k, depth + 1);
      // `out.__proto__ = …` would set the copy's prototype, dropping a key that JSON data
      // (skill output) may carry and making the copy inherit it (issue 17 #28).
      if (k === '__proto__')
        Object.defineProperty(out, k, {
          value: redacted,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[k] = redacted;
    }
    return out;
  }
}
