import { encodedForms } from './encoded-forms.ts';
import { LiteralMatcher, type PatternLiveness } from './literal-matcher.ts';

/** Releases one registration of a known value; synchronous, so a revocation drops it at once. */
export type KnownValueHandle = { dispose: () => void };

/** A matcher with, per pattern index, the values whose spelling (plain or encoded) it is. */
type Built = {
  matcher: LiteralMatcher;
  owners: readonly (readonly string[])[];
  values: ReadonlySet<string>;
};

/**
 * The secret values a redactor replaces, each with its encoded forms, behind one literal
 * matcher. Every segment adds its agent token and releases it at the end (issue 18), so a
 * release keeps the matcher and only stops counting the value's patterns as matches; the
 * matcher is rebuilt when a value it lacks is added, or when released values outnumber
 * held ones, so its size stays proportional to what is held.
 */
export class KnownValues {
  /** Each held value with how many registrations hold it (a value may be added twice). */
  readonly #holds = new Map<string, number>();
  #built: Built | undefined;
  /** The spellings of each value of the last build, so a rebuild encodes only new values. */
  #forms = new Map<string, readonly string[]>();
  /** Values the current matcher was built over that are no longer held. */
  #released = 0;
  #builds = 0;

  /** How many distinct values are held. */
  get size(): number {
    return this.#holds.size;
  }

  /** How many times a matcher was built (what churn costs, observable without a clock). */
  get builds(): number {
    return this.#builds;
  }

  /** Holds `value` until the returned handle is disposed. */
  add(value: string): KnownValueHandle {
    const count = this.#holds.get(value) ?? 0;
    this.#holds.set(value, count + 1);
    if (this.#built !== undefined && count === 0) {
      // A value the matcher was built over matches again; any other needs its patterns added.
      if (this.#built.values.has(value)) this.#released -= 1;
      else this.#built = undefined;
    }
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.#release(value);
      },
    };
  }

  /** `text` with every held value, in any of its forms, replaced by `replacement`. */
  replace(text: string, replacement: string): string {
    if (this.#holds.size === 0) return text;
    const built = this.#current();
    return built.matcher.replace(text, replacement, this.#liveness(built));
  }

  /** Whether `text` holds a held value in any of its forms. */
  test(text: string): boolean {
    if (this.#holds.size === 0) return false;
    const built = this.#current();
    return built.matcher.test(text, this.#liveness(built));
  }

  #release(value: string): void {
    const count = (this.#holds.get(value) ?? 1) - 1;
    if (count > 0) {
      this.#holds.set(value, count);
      return;
    }
    this.#holds.delete(value);
    if (this.#built === undefined || !this.#built.values.has(value)) return;
    this.#released += 1;
    // Keeps memory proportional to what is held, not to everything ever minted (nor keeps
    // revoked tokens' spellings around until the next redaction).
    if (this.#released > this.#holds.size) {
      this.#built = undefined;
      this.#forms = new Map([...this.#forms].filter(([v]) => this.#holds.has(v)));
    }
  }

  /** Every pattern counts while nothing was released; otherwise those of a held value only. */
  #liveness(built: Built): PatternLiveness | undefined {
    if (this.#released === 0) return undefined;
    return (index) => built.owners[index]?.some((v) => this.#holds.has(v)) === true;
  }

  #current(): Built {
    if (this.#built !== undefined) return this.#built;
    const forms = new Map<string, readonly string[]>();
    const ownersOf = new Map<string, string[]>();
    for (const value of this.#holds.keys()) {
      const spellings = this.#forms.get(value) ?? [value, ...encodedForms(value)];
      forms.set(value, spellings);
      for (const s of spellings) {
        const owners = ownersOf.get(s);
        if (owners === undefined) ownersOf.set(s, [value]);
        else owners.push(value);
      }
    }
    const matcher = new LiteralMatcher(ownersOf.keys());
    this.#built = {
      matcher,
      owners: matcher.patterns.map((p) => ownersOf.get(p) ?? []),
      values: new Set(forms.keys()),
    };
    this.#forms = forms;
    this.#released = 0;
    this.#builds += 1;
    return this.#built;
  }
}
