import { describe, expect, it } from 'vitest';
import { encodedForms } from '../../../main/policy/encoded-forms.ts';
import { LiteralMatcher } from '../../../main/policy/literal-matcher.ts';
import { naiveReplace } from './naive-literal-replace.ts';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Random words of 1 to `max` letters of `alphabet`, drawn from `next`. */
function wordsOf(next: () => number): (max: number, alphabet: string) => string {
  return (max, alphabet) =>
    Array.from(
      { length: 1 + Math.floor(next() * max) },
      () => alphabet[Math.floor(next() * alphabet.length)],
    ).join('');
}

describe('LiteralMatcher', () => {
  it('replaces leftmost-longest matches exactly as the quadratic version does', () => {
    const next = random(17);
    const word = wordsOf(next);
    for (let round = 0; round < 300; round++) {
      // A tiny alphabet (with a non-ASCII letter) makes overlaps and shared prefixes common.
      const patterns = Array.from({ length: 1 + Math.floor(next() * 6) }, () => word(5, 'abé'));
      const text = word(60, 'abéc');
      const matcher = new LiteralMatcher(patterns);
      expect(matcher.replace(text, '#'), JSON.stringify({ patterns, text })).toBe(
        naiveReplace(text, patterns, '#'),
      );
      expect(matcher.test(text)).toBe(patterns.some((p) => text.includes(p)));
    }
  });

  it('ignores the patterns said to be dead exactly as if they were absent', () => {
    const next = random(29);
    const word = wordsOf(next);
    for (let round = 0; round < 500; round++) {
      const matcher = new LiteralMatcher(
        Array.from({ length: 1 + Math.floor(next() * 8) }, () => word(5, 'abé')),
      );
      const live = matcher.patterns.map(() => next() < 0.5);
      const livePatterns = matcher.patterns.filter((_, i) => live[i]);
      const isLive = (i: number): boolean => live[i] === true;
      const text = word(60, 'abéc');
      const context = JSON.stringify({ patterns: matcher.patterns, live, text });
      expect(matcher.replace(text, '#', isLive), context).toBe(
        naiveReplace(text, livePatterns, '#'),
      );
      expect(matcher.test(text, isLive), context).toBe(livePatterns.some((p) => text.includes(p)));
    }
  });

  it('builds in work proportional to the patterns, not to states × characters (issue 18)', () => {
    // Ten agent tokens as the host mints them, with the spellings the redactor looks for.
    const patterns = Array.from({ length: 10 }, (_, i) => {
      const token = `ccos.tok_${i.toString(16).repeat(32)}.${'Zq81xY7LmN0pQrStUvWx-_'.repeat(2)}${i}`;
      return [token, ...encodedForms(token)];
    }).flat();
    const matcher = new LiteralMatcher(patterns);
    const length = matcher.patterns.reduce((n, p) => n + p.length, 0);
    // A dense row per state would be ~70 cells a pattern character.
    expect(matcher.denseCells).toBeLessThan(4 * length);
    expect(matcher.replace(`x ${patterns[3] ?? ''} y`, '#')).toBe('x # y');
  });

  it('matches nothing without patterns, and ignores empty ones', () => {
    expect(new LiteralMatcher([]).replace('abc', '#')).toBe('abc');
    expect(new LiteralMatcher(['']).replace('abc', '#')).toBe('abc');
    expect(new LiteralMatcher(['', 'b']).replace('abc', '#')).toBe('a#c');
  });
});
