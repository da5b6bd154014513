import { describe, expect, it } from 'vitest';
import { LiteralMatcher } from '../../../main/policy/literal-matcher.ts';

/** The obvious quadratic version: at each position, the longest pattern starting there. */
function naiveReplace(text: string, patterns: readonly string[], replacement: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const longest = patterns
      .filter((p) => p.length > 0 && text.startsWith(p, i))
      .reduce((a, p) => Math.max(a, p.length), 0);
    if (longest > 0) {
      out += replacement;
      i += longest;
    } else {
      out += text[i] ?? '';
      i += 1;
    }
  }
  return out;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('LiteralMatcher', () => {
  it('replaces leftmost-longest matches exactly as the quadratic version does', () => {
    const next = random(17);
    const word = (max: number, alphabet: string): string =>
      Array.from(
        { length: 1 + Math.floor(next() * max) },
        () => alphabet[Math.floor(next() * alphabet.length)],
      ).join('');
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

  it('matches nothing without patterns, and ignores empty ones', () => {
    expect(new LiteralMatcher([]).replace('abc', '#')).toBe('abc');
    expect(new LiteralMatcher(['']).replace('abc', '#')).toBe('abc');
    expect(new LiteralMatcher(['', 'b']).replace('abc', '#')).toBe('a#c');
  });
});
