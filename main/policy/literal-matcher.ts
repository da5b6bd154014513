/** Whether the pattern at this index (into `LiteralMatcher.patterns`) still counts as a match. */
export type PatternLiveness = (index: number) => boolean;

/**
 * Trie states at most this deep get a dense row (one entry per character class). Scanning
 * text spends nearly all its time at the root and one or two characters into a pattern, so
 * those take one table read a character; deeper states are rare in text and keep sparse
 * edges, so building costs O(total pattern length) plus these few rows, not states ×
 * classes (issue 18: the dense table over every state was ~15 % of a busy host's time).
 */
const DENSE_DEPTH = 2;

/**
 * Finds many literal strings in one pass: an Aho–Corasick automaton over UTF-16 code units.
 * `replace` swaps the leftmost-longest non-overlapping matches; both it and `test` can be told
 * to ignore some patterns, so a caller whose set shrinks can keep using a matcher built over
 * the larger set (the ignored patterns match exactly as if they were absent).
 *
 * Characters are first mapped to classes: each code unit some pattern uses gets its own, and
 * every other one shares class 0, which always leads back to the start — so text that shares
 * no character with any pattern costs one lookup per character.
 */
export class LiteralMatcher {
  /** The distinct non-empty patterns, in the order first given: what indices refer to. */
  readonly patterns: readonly string[];
  /** Number of patterns. */
  readonly size: number;
  /** Entries of the dense rows, i.e. the build's cost beyond one step per pattern character. */
  readonly denseCells: number;
  /** Class of each code unit below 128 (the common case), 0 for "in no pattern". */
  readonly #asciiClass = new Int32Array(128);
  readonly #otherClass = new Map<number, number>();
  readonly #classes: number;
  /** Per state: where its dense row starts in `#table`, or -1 for a sparse state. */
  readonly #row: Int32Array;
  /** `#table[#row[state] + class]` is the next state (a complete DFA row). */
  readonly #table: Int32Array;
  /** Sparse edges: a state's children form a list; 0 (the root is nobody's child) ends it. */
  readonly #firstChild: Int32Array;
  readonly #nextSibling: Int32Array;
  /** The class of the edge into each state. */
  readonly #label: Int32Array;
  /** Suffix links: the longest proper suffix of a state's string that is a trie state. */
  readonly #fail: Int32Array;
  /** Per state: the index of the pattern spelled by it, or -1. */
  readonly #own: Int32Array;
  /** Per state: the first state on its suffix chain (itself first) that is a pattern, or -1. */
  readonly #firstEnd: Int32Array;
  /** Per pattern state: the next shorter pattern state on its suffix chain, or -1. */
  readonly #nextEnd: Int32Array;

  constructor(patterns: Iterable<string>) {
    const unique = [...new Set(patterns)].filter((p) => p.length > 0);
    this.patterns = unique;
    this.size = unique.length;
    this.#classes = this.#assignClasses(unique);
    let capacity = 1;
    for (const p of unique) capacity += p.length;
    this.#firstChild = new Int32Array(capacity);
    this.#nextSibling = new Int32Array(capacity);
    this.#label = new Int32Array(capacity);
    this.#own = new Int32Array(capacity).fill(-1);
    const depth = new Int32Array(capacity);
    const states = this.#buildTrie(unique, depth);
    let denseStates = 0;
    for (let s = 0; s < states; s++) if ((depth[s] ?? 0) <= DENSE_DEPTH) denseStates += 1;
    this.denseCells = denseStates * this.#classes;
    this.#table = new Int32Array(this.denseCells);
    this.#row = new Int32Array(states).fill(-1);
    this.#fail = new Int32Array(states);
    this.#firstEnd = new Int32Array(states).fill(-1);
    this.#nextEnd = new Int32Array(states).fill(-1);
    this.#link(states, depth);
  }

  /** Whether any (live) pattern occurs in `text`. */
  test(text: string, isLive?: PatternLiveness): boolean {
    if (this.size === 0) return false;
    const firstEnd = this.#firstEnd;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.#step(state, this.#classOf(text.charCodeAt(i)));
      for (let e = firstEnd[state] ?? -1; e >= 0; e = this.#nextEnd[e] ?? -1) {
        if (isLive === undefined || isLive(this.#own[e] ?? -1)) return true;
      }
    }
    return false;
  }

  /** `text` with every leftmost-longest (live) match replaced by `replacement`. */
  replace(text: string, replacement: string, isLive?: PatternLiveness): string {
    if (this.size === 0 || text.length === 0) return text;
    const firstEnd = this.#firstEnd;
    // The longest match starting at each position that has one.
    let longestAt: Map<number, number> | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.#step(state, this.#classOf(text.charCodeAt(i)));
      for (let e = firstEnd[state] ?? -1; e >= 0; e = this.#nextEnd[e] ?? -1) {
        const pattern = this.#own[e] ?? -1;
        if (isLive !== undefined && !isLive(pattern)) continue;
        const length = this.patterns[pattern]?.length ?? 0;
        const start = i - length + 1;
        longestAt ??= new Map();
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

  /** The state after reading a character of class `k` in `state`. */
  #step(state: number, k: number): number {
    if (k === 0) return 0;
    let s = state;
    for (;;) {
      const row = this.#row[s] ?? 0;
      if (row >= 0) return this.#table[row + k] ?? 0;
      for (let c = this.#firstChild[s] ?? 0; c !== 0; c = this.#nextSibling[c] ?? 0) {
        if (this.#label[c] === k) return c;
      }
      // Shorter and shorter suffixes; the root is dense, so this ends.
      s = this.#fail[s] ?? 0;
    }
  }

  /** Numbers the code units the patterns use; returns the number of classes (0 included). */
  #assignClasses(patterns: readonly string[]): number {
    let classes = 1;
    for (const p of patterns) {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (this.#classOf(c) !== 0) continue;
        if (c < 128) this.#asciiClass[c] = classes;
        else this.#otherClass.set(c, classes);
        classes += 1;
      }
    }
    return classes;
  }

  /**
   * The trie, from the patterns in sorted order: each shares with the one before it exactly
   * the prefix it shares with any earlier one, so the path to extend is on a stack and no
   * edge has to be looked up. Returns the number of states.
   */
  #buildTrie(patterns: readonly string[], depth: Int32Array): number {
    const order = patterns.map((_, i) => i);
    order.sort((a, b) => {
      const pa = patterns[a] ?? '';
      const pb = patterns[b] ?? '';
      return pa < pb ? -1 : pa > pb ? 1 : 0;
    });
    let longest = 0;
    for (const p of patterns) longest = Math.max(longest, p.length);
    const path = new Int32Array(longest + 1);
    let states = 1;
    let previous = '';
    for (const index of order) {
      const p = patterns[index] ?? '';
      let shared = 0;
      const most = Math.min(p.length, previous.length);
      while (shared < most && p.charCodeAt(shared) === previous.charCodeAt(shared)) shared += 1;
      let state = path[shared] ?? 0;
      for (let d = shared; d < p.length; d++) {
        const child = states++;
        this.#label[child] = this.#classOf(p.charCodeAt(d));
        this.#nextSibling[child] = this.#firstChild[state] ?? 0;
        this.#firstChild[state] = child;
        depth[child] = d + 1;
        path[d + 1] = child;
        state = child;
      }
      this.#own[state] = index;
      previous = p;
    }
    return states;
  }

  /** Breadth-first: suffix links, the chains of patterns ending at each state, dense rows. */
  #link(states: number, depth: Int32Array): void {
    const classes = this.#classes;
    const queue = new Int32Array(states);
    let tail = 1; // the root is queue[0]
    let rows = 0;
    for (let head = 0; head < tail; head++) {
      const s = queue[head] ?? 0;
      const fail = this.#fail[s] ?? 0;
      if (s !== 0) {
        this.#nextEnd[s] = this.#firstEnd[fail] ?? -1;
        this.#firstEnd[s] = (this.#own[s] ?? -1) >= 0 ? s : (this.#nextEnd[s] ?? -1);
      }
      if ((depth[s] ?? 0) <= DENSE_DEPTH) {
        const row = rows++ * classes;
        this.#row[s] = row;
        // A missing edge goes where the suffix link's would (already complete: shallower).
        if (s !== 0) {
          const from = this.#row[fail] ?? 0;
          this.#table.copyWithin(row, from, from + classes);
        }
        for (let c = this.#firstChild[s] ?? 0; c !== 0; c = this.#nextSibling[c] ?? 0) {
          this.#table[row + (this.#label[c] ?? 0)] = c;
        }
      }
      for (let c = this.#firstChild[s] ?? 0; c !== 0; c = this.#nextSibling[c] ?? 0) {
        this.#fail[c] = s === 0 ? 0 : this.#step(fail, this.#label[c] ?? 0);
        queue[tail++] = c;
      }
    }
  }

  #classOf(c: number): number {
    return c < 128 ? (this.#asciiClass[c] ?? 0) : (this.#otherClass.get(c) ?? 0);
  }
}
