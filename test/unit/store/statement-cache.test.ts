import { describe, expect, it } from 'vitest';
import { StatementCache } from '../../../main/store/statement-cache.ts';

type Fake = { sql: string; id: number };

/** A cache over fake statements that records every prepare and finalize. */
function fakeCache(capacity: number, failPrepare: (sql: string) => boolean = () => false) {
  const log: string[] = [];
  let nextId = 0;
  const live = new Set<number>();
  const cache = new StatementCache<Fake>({
    capacity,
    prepare: (sql) => {
      if (failPrepare(sql)) return Promise.reject(new Error(`cannot prepare ${sql}`));
      const statement = { sql, id: ++nextId };
      live.add(statement.id);
      log.push(`prepare ${sql}#${statement.id}`);
      return Promise.resolve(statement);
    },
    finalize: (statement) => {
      live.delete(statement.id);
      log.push(`finalize ${statement.sql}#${statement.id}`);
      return Promise.resolve();
    },
  });
  const run = (sql: string): Promise<number> => cache.use(sql, (s) => Promise.resolve(s.id));
  return { cache, log, live, run };
}

/** Lets queued promise callbacks (the finalizations) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StatementCache', () => {
  it('prepares a statement once and reuses it for the same SQL', async () => {
    const { log, run } = fakeCache(4);
    expect(await run('a')).toBe(1);
    expect(await run('a')).toBe(1);
    expect(await run('b')).toBe(2);
    expect(await run('a')).toBe(1);
    expect(log).toEqual(['prepare a#1', 'prepare b#2']);
  });

  it('evicts and finalizes the least recently used statement beyond its capacity', async () => {
    const { cache, log, live, run } = fakeCache(2);
    await run('a');
    await run('b');
    await run('a'); // a is now more recent than b
    await run('c');
    await settle();
    expect(log).toEqual(['prepare a#1', 'prepare b#2', 'prepare c#3', 'finalize b#2']);
    expect(cache.size).toBe(2);
    expect([...live]).toEqual([1, 3]);
    // An evicted statement is prepared afresh when needed again.
    expect(await run('b')).toBe(4);
  });

  it('finalizes an evicted statement only after its current user is done', async () => {
    const { cache, log } = fakeCache(1);
    let finish = (): void => undefined;
    const slow = cache.use('a', () => new Promise<void>((resolve) => (finish = resolve)));
    await settle();
    await cache.use('b', () => Promise.resolve()); // evicts a, which is still running
    await settle();
    expect(log).toEqual(['prepare a#1', 'prepare b#2']);
    finish();
    await slow;
    await settle();
    expect(log).toEqual(['prepare a#1', 'prepare b#2', 'finalize a#1']);
  });

  it('drops and finalizes a statement whose use failed, and prepares a fresh one next time', async () => {
    const { cache, log, run } = fakeCache(4);
    await run('a');
    await expect(cache.use('a', () => Promise.reject(new Error('constraint')))).rejects.toThrow(
      'constraint',
    );
    await settle();
    expect(cache.size).toBe(0);
    expect(await run('a')).toBe(2);
    expect(log).toEqual(['prepare a#1', 'finalize a#1', 'prepare a#2']);
  });

  it('does not cache a statement that failed to prepare', async () => {
    let broken = true;
    const { cache, run } = fakeCache(4, () => broken);
    await expect(run('bad')).rejects.toThrow('cannot prepare bad');
    await settle();
    expect(cache.size).toBe(0);
    broken = false;
    expect(await run('bad')).toBe(1);
  });

  it('close finalizes every statement, waits for those in use, then refuses use', async () => {
    const { cache, live, run } = fakeCache(4);
    await run('a');
    await run('b');
    let finish = (): void => undefined;
    const slow = cache.use('c', () => new Promise<void>((resolve) => (finish = resolve)));
    await settle();
    let closed = false;
    const closing = cache.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false); // c is still running
    expect([...live]).toEqual([3]);
    finish();
    await slow;
    await closing;
    expect(live.size).toBe(0);
    await expect(run('a')).rejects.toThrow('after close');
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => fakeCache(0)).toThrow(RangeError);
    expect(() => fakeCache(1.5)).toThrow(RangeError);
  });
});
