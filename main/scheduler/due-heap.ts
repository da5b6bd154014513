/**
 * An indexed binary min-heap of schedule ids by due time: the scheduler's one timer waits
 * for its top. `set` (insert or move) and `delete` are O(log n), `peek` O(1), so re-arming
 * after a change costs O(log n) whatever the number of schedules. Ties break by id, so the
 * order of fires due at the same millisecond is stable.
 */
export class DueHeap {
  readonly #ids: string[] = [];
  readonly #due: number[] = [];
  readonly #position = new Map<string, number>();
  #swaps = 0;

  /** Slots swapped so far: the work of every set and delete (the bench shows it grows as log n). */
  get swaps(): number {
    return this.#swaps;
  }

  get size(): number {
    return this.#ids.length;
  }

  /** The earliest entry, or undefined when empty. */
  peek(): { id: string; due: number } | undefined {
    const id = this.#ids[0];
    const due = this.#due[0];
    return id === undefined || due === undefined ? undefined : { id, due };
  }

  dueOf(id: string): number | undefined {
    const i = this.#position.get(id);
    return i === undefined ? undefined : this.#due[i];
  }

  /** Inserts `id` or moves it to `due`. */
  set(id: string, due: number): void {
    const at = this.#position.get(id);
    if (at === undefined) {
      this.#ids.push(id);
      this.#due.push(due);
      this.#position.set(id, this.#ids.length - 1);
      this.#up(this.#ids.length - 1);
      return;
    }
    const before = this.#due[at] ?? due;
    this.#due[at] = due;
    if (due < before) this.#up(at);
    else this.#down(at);
  }

  delete(id: string): void {
    const at = this.#position.get(id);
    if (at === undefined) return;
    const last = this.#ids.length - 1;
    this.#swap(at, last);
    this.#ids.pop();
    this.#due.pop();
    this.#position.delete(id);
    if (at < this.#ids.length) {
      this.#up(at);
      this.#down(at);
    }
  }

  #less(a: number, b: number): boolean {
    const da = this.#due[a] ?? 0;
    const db = this.#due[b] ?? 0;
    return da < db || (da === db && (this.#ids[a] ?? '') < (this.#ids[b] ?? ''));
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#ids.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.#less(left, least)) least = left;
      if (right < n && this.#less(right, least)) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #swap(a: number, b: number): void {
    if (a === b) return;
    this.#swaps++;
    const ia = this.#ids[a] ?? '';
    const ib = this.#ids[b] ?? '';
    const da = this.#due[a] ?? 0;
    const db = this.#due[b] ?? 0;
    this.#ids[a] = ib;
    this.#ids[b] = ia;
    this.#due[a] = db;
    this.#due[b] = da;
    this.#position.set(ib, a);
    this.#position.set(ia, b);
  }
}
