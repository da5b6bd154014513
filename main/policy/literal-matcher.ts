/**
 * Finds many literal strings in one pass: an Aho–Corasick automaton over UTF-16 code units,
 * compiled into a dense transition table, so a scan costs one table read per character
 * whatever the number of patterns, and adding a pattern means one rebuild, not re-sorting a
 * list on every insert. `replace` swaps the leftmost-longest non-overlapping matches.
 *
 * Characters are first mapped to classes: each code unit some pattern uses gets its own, and
 * every other one shares class 0, which always leads back to the start — so the table is
 * states × (distinct pattern characters + 1), and text that shares no character with any
 * pattern costs one lookup per character.
 */
export class LiteralMatcher {
  /** Number of patterns. */
  readonly size: number;
  /** Class of each code unit below 128 (the common case), 0 for "in no pattern". */
  readonly #asciiClass = new Int32Array(128);
  readonly #otherClass = new Map<number, number>();
  readonly #classes: number;
  /** `#table[state * #classes + class]` is the next state. */
  readonly #table: Int32Array;
  /** Per state: the length of each pattern ending there (via suffix links too), longest first. */
  readonly #ends: readonly (readonly number[])[];

  constructor(patterns: Iterable<string>) {
    const unique = [...new Set(patterns)].filter((p) => p.length > 0);
    this.size = unique.length;
    let classes = 1;
    for (const p of unique) {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (this.#classOf(c) !== 0) continue;
        if (c < 128) this.#asciiClass[c] = classes;
        else this.#otherClass.set(c, classes);
        classes += 1;
      }
    }
    this.#classes = classes;
    // The trie, with sparse edges while it is built.
    const edges: Map<number, number>[] = [new Map<number, number>()];
    const own: number[] = [0];
    for (const p of unique) {
      let state = 0;
      for (let i = 0; i < p.length; i++) {
        const k = this.#classOf(p.charCodeAt(i));
        let next = edges[state]?.get(k);
        if (next === undefined) {
          next = edges.length;
          edges.push(new Map<number, number>());
          own.push(0);
          edges[state]?.set(k, next);
        }
        state = next;
      }
      own[state] = p.length;
    }
    // Breadth-first: suffix links, then every missing edge filled from the link's (a DFA).
    const table = new Int32Array(edges.length * classes);
    const fail = new Int32Array(edges.length);
    const ends: number[][] = edges.map(() => []);
    const queue: number[] = [];
    for (const [k, child] of edges[0] ?? []) {
      table[k] = child;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] ?? 0;
      const link = fail[state] ?? 0;
      const here = own[state] ?? 0;
      ends[state] = [...(here > 0 ? [here] : []), ...(ends[link] ?? [])];
      for (let k = 0; k < classes; k++) {
        const child = edges[state]?.get(k);
        if (child === undefined) {
          table[state * classes + k] = table[link * classes + k] ?? 0;
        } else {
          table[state * classes + k] = child;
          fail[child] = table[link * classes + k] ?? 0;
          queue.push(child);
        }
      }
    }
    this.#table = table;
    this.#ends = ends;
  }

  /** Whether any pattern occurs in `text`. */
  test(text: string): boolean {
    if (this.size === 0) return false;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.#table[state * this.#classes + this.#classOf(text.charCodeAt(i))] ?? 0;
      if ((this.#ends[state] ?? []).length > 0) return true;
    }
    return false;
  }

  /** `text` with every leftmost-longest match replaced by `replacement`. */
  replace(text: string, replacement: string): string {
    if (this.size === 0 || text.length === 0) return text;
    // The longest match starting at each position that has one.
    let longestAt: Map<number, number> | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.#table[state * this.#classes + this.#classOf(text.charCodeAt(i))] ?? 0;
      const ends = this.#ends[state] ?? [];
      if (ends.length === 0) continue;
      longestAt ??= new Map();
      for (const length of ends) {
        const start = i - length + 1;
        if ((longestAt.get(start) ?? 0) < length) longestAt.set(start, length);
      }
    }
    if (longestAt === undefined) return text;
    let out = '';
    let copiedTo = 0;
    for (const start of [...longestAt.keys()].sort((a, b) => a - b)) {
      if (start < copiedTo) continue; // inside a match already replaced
      out += text.slice(copiedTo, start) + replacement;
      copiedTo = start + (longestAt.get(start) ?? 0);
    }
    return out + text.slice(copiedTo);
  }

  #classOf(c: number): number {
    return c < 128 ? (this.#asciiClass[c] ?? 0) : (this.#otherClass.get(c) ?? 0);
  }
}
