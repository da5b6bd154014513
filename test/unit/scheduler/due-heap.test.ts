import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueHeap } from '../../../main/scheduler/due-heap.ts';

describe('DueHeap', () => {
  it('always yields the earliest due entry, whatever the sequence of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        id: fc.integer({ min: 0, max: 30 }),
        due: fc.integer({ min: 0, max: 1000 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new DueHeap();
        const model = new Map<string, number>();
        for (const o of ops) {
          const id = `s${o.id}`;
          if (o.kind === 'set') {
            heap.set(id, o.due);
            model.set(id, o.due);
          } else {
            heap.delete(id);
            model.delete(id);
          }
          expect(heap.size).toBe(model.size);
          const expected = [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0];
          expect(heap.peek()).toEqual(
            expected === undefined ? undefined : { id: expected[0], due: expected[1] },
          );
        }
        // Draining gives every entry once, in due order.
        const drained: number[] = [];
        for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
          drained.push(top.due);
          heap.delete(top.id);
        }
        expect(drained).toEqual([...model.values()].sort((a, b) => a - b));
      }),
    );
  });

  it('moves one entry among 100,000 to the top and back (the bench measures the O(log n) cost)', () => {
    const heap = new DueHeap();
    for (let i = 0; i < 100_000; i++) heap.set(`s${i}`, (i * 7919) % 100_000);
    const before = heap.peek();
    heap.set('s5', -1);
    expect(heap.peek()).toEqual({ id: 's5', due: -1 });
    heap.set('s5', 1_000_000);
    expect(heap.peek()).toEqual(before);
    expect(heap.dueOf('s5')).toBe(1_000_000);
  });
});
