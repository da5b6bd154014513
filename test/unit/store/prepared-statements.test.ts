import { describe, expect, it } from 'vitest';
import { PreparedStatements } from '../../../main/store/prepared-statements.ts';

/** A cache over fake statements that records every preparation. */
function fakeCache(capacity: number) {
  const prepared: string[] = [];
  let nextId = 0;
  const cache = new PreparedStatements(capacity, (sql) => {
    if (sql === 'bad') throw new Error('cannot prepare bad');
    prepared.push(sql);
    return { sql, id: ++nextId };
  });
  return { cache, prepared };
}

describe('PreparedStatements', () => {
  it('prepares a statement once and reuses it for the same SQL', () => {
    const { cache, prepared } = fakeCache(4);
    expect(cache.get('a').id).toBe(1);
    expect(cache.get('a').id).toBe(1);
    expect(cache.get('b').id).toBe(2);
    expect(cache.get('a').id).toBe(1);
    expect(prepared).toEqual(['a', 'b']);
  });

  it('drops the least recently used statement beyond its capacity and prepares it afresh', () => {
    const { cache, prepared } = fakeCache(2);
    cache.get('a');
    cache.get('b');
    cache.get('a'); // a is now more recent than b
    cache.get('c');
    expect(cache.size).toBe(2);
    expect(cache.get('a').id).toBe(1);
    expect(cache.get('b').id).toBe(4);
    expect(prepared).toEqual(['a', 'b', 'c', 'b']);
  });

  it('caches nothing for a statement that cannot be prepared', () => {
    const { cache } = fakeCache(2);
    expect(() => cache.get('bad')).toThrow('cannot prepare bad');
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new PreparedStatements(0, () => 1)).toThrow(RangeError);
    expect(() => new PreparedStatements(1.5, () => 1)).toThrow(RangeError);
  });
});
