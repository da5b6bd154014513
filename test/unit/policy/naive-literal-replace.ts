/**
 * The obvious quadratic version of `LiteralMatcher.replace`: at each position, the longest
 * pattern starting there. The reference the matcher and the redactor are checked against.
 */
export function naiveReplace(
  text: string,
  patterns: readonly string[],
  replacement: string,
): string {
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
