import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodedForms } from '../../../main/policy/encoded-forms.ts';
import {
  MIN_KNOWN_LENGTH,
  REDACTED_SECRET,
  Redactor,
  type KnownValueHandle,
} from '../../../main/policy/redactor.ts';
import { naiveReplace } from './naive-literal-replace.ts';

/**
 * Issue 18: the redactor keeps its matcher across releases and only ignores released values'
 * patterns. Checked against today's meaning, computed the slow way: on every redaction, the
 * leftmost-longest of the values held right now and their encoded forms, found by brute
 * force, then the credential patterns (a redactor that knows no value applies just those).
 */
class ReferenceRedactor {
  readonly #holds = new Map<string, number>();

  add(value: string): () => void {
    if (value.length < MIN_KNOWN_LENGTH) return () => undefined;
    this.#holds.set(value, (this.#holds.get(value) ?? 0) + 1);
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      const count = (this.#holds.get(value) ?? 1) - 1;
      if (count > 0) this.#holds.set(value, count);
      else this.#holds.delete(value);
    };
  }

  get count(): number {
    return this.#holds.size;
  }

  #patterns(): string[] {
    return [...this.#holds.keys()].flatMap((v) => [v, ...encodedForms(v)]);
  }

  redact(text: string): string {
    return new Redactor().redactString(naiveReplace(text, this.#patterns(), REDACTED_SECRET));
  }

  holds(text: string): boolean {
    return this.#patterns().some((p) => text.includes(p));
  }
}

/** A few short stems over a tiny alphabet, so values share prefixes, suffixes and middles. */
const stem = fc.string({
  unit: fc.constantFrom('a', 'b', 'A', '1', '%', 'é'),
  minLength: 1,
  maxLength: 12,
});

/**
 * The values: stems, and values made from earlier ones — a prefix, suffix or middle of one,
 * two joined, or one's encoded form — so that one known value sits inside another or equals
 * another's encoding.
 */
const valuesArb = fc
  .tuple(
    fc.array(stem, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(5), fc.nat(), fc.nat(), fc.nat()), { maxLength: 5 }),
  )
  .map(([stems, derivations]) => {
    // Longer than the minimum, so a prefix or suffix of one can be known too.
    const values = stems.map((s) => s.padEnd(MIN_KNOWN_LENGTH + 4, s));
    for (const [kind, a, b, c] of derivations) {
      const base = values[a % values.length] ?? '';
      const other = values[b % values.length] ?? '';
      const cut = 1 + (c % (base.length - 1));
      const forms = encodedForms(base);
      // Some pieces are shorter than the minimum: both sides must ignore those.
      const made = [
        base.slice(0, cut),
        base.slice(cut),
        base.slice(1, -1),
        base + other,
        forms[c % forms.length] ?? base,
        other.slice(0, 3) + base,
      ][kind];
      values.push(made ?? base);
    }
    return values;
  });

type Op =
  | { kind: 'add'; value: number }
  | { kind: 'dispose'; handle: number }
  | { kind: 'redact'; parts: [number, number, number, string][] };

/** Adds outweigh disposals, so released values often sit in a matcher beside held ones. */
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), value: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dispose' as const), handle: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('redact' as const),
      parts: fc.array(fc.tuple(fc.nat(5), fc.nat(), fc.nat(), stem), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  },
);

/** Text made of values, their encoded forms, pieces of them, filler, and every value at once. */
function textOf(values: readonly string[], parts: Op & { kind: 'redact' }): string {
  return parts.parts
    .map(([kind, a, b, filler]) => {
      const value = values[a % values.length] ?? '';
      const forms = encodedForms(value);
      if (kind === 0) return value;
      if (kind === 1) return forms[b % forms.length] ?? '';
      if (kind === 2) return value.slice(b % value.length);
      if (kind === 3) return value.slice(0, value.length - (b % value.length));
      if (kind === 4) return filler;
      return values.join(filler);
    })
    .join('');
}

describe('Redactor under add/dispose churn', () => {
  it('redacts exactly what a rebuild over the values held at that moment would', () => {
    fc.assert(
      fc.property(valuesArb, fc.array(opArb, { maxLength: 60, size: 'max' }), (values, ops) => {
        const redactor = new Redactor();
        const reference = new ReferenceRedactor();
        const handles: [KnownValueHandle, () => void][] = [];
        for (const op of ops) {
          if (op.kind === 'add') {
            const value = values[op.value % values.length] ?? '';
            handles.push([redactor.addKnownValue(value), reference.add(value)]);
          } else if (op.kind === 'dispose') {
            const pair = handles[op.handle % Math.max(1, handles.length)];
            pair?.[0].dispose();
            pair?.[1]();
          } else {
            const text = textOf(values, op);
            expect(redactor.redactString(text), text).toBe(reference.redact(text));
            expect(redactor.holdsKnownValue(text), text).toBe(reference.holds(text));
          }
          expect(redactor.knownValueCount).toBe(reference.count);
        }
      }),
      { numRuns: 500 },
    );
  });
});
