import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyOutput } from '../../../main/transforms/redaction-verifier.ts';

const IDS = { sender_id: 'U0451XQ', channel_id: 'C-lunch-club' };
const LIMITS = { max_quote_words: 5, max_output_chars: 100_000 };
const word = fc.stringMatching(/^[a-z]{3,8}$/);
/** What an output may put between words without a reader seeing anything but a space. */
const separator = fc.constantFrom(' ', '\n', '\t', ' \u200B', ', ', '\u2028', ' - ');

describe('redaction verifier (property)', () => {
  it('catches every run of more than N source words, whatever separates them in the output', () => {
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 8, maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: 6, max: 8 }),
        fc.array(separator, { minLength: 8, maxLength: 8 }),
        (source, start, length, seps) => {
          const from = start % (source.length - length + 1);
          const quote = source.slice(from, from + length);
          const text = quote.map((w, i) => (i === 0 ? w : `${seps[i] ?? ' '}${w}`)).join('');
          const result = verifyOutput(
            JSON.stringify({ summary: `Zq ${text} zq` }),
            source.join(' '),
            IDS,
            LIMITS,
          );
          expect(result.issues.some((i) => i.code === 'verbatim_quote')).toBe(true);
        },
      ),
    );
  });

  it('passes an output that shares no word with the source', () => {
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 40 }),
        fc.array(fc.stringMatching(/^[A-Z][0-9]{2}$/), { maxLength: 40 }),
        (source, other) => {
          const result = verifyOutput(
            JSON.stringify({ summary: other.join(' ') || 'none' }),
            source.join(' '),
            IDS,
            LIMITS,
          );
          expect(result).toEqual({ ok: true, issues: [] });
        },
      ),
    );
  });
});
