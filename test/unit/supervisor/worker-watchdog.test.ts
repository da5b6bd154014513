import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkerWatchdog } from '../../../main/supervisor/worker-watchdog.ts';

const LIMITS = { startMs: 10_000, segmentMs: 1_000, silenceMs: 300 };

describe('WorkerWatchdog', () => {
  let expired: string[];
  let hellos: number;
  let dog: WorkerWatchdog;
  beforeEach(() => {
    vi.useFakeTimers();
    expired = [];
    hellos = 0;
    dog = new WorkerWatchdog(
      LIMITS,
      (r) => expired.push(r),
      () => hellos++,
    );
    dog.start();
  });
  afterEach(() => {
    dog.dispose();
    vi.useRealTimers();
  });

  it('does not count start-up as segment time', () => {
    vi.advanceTimersByTime(9_000);
    expect(expired).toEqual([]);
    dog.received();
    expect(hellos).toBe(1);
    dog.requestStarted();
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['segment time exceeded']);
  });

  it('kills a worker that never speaks, once', () => {
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['worker did not start: no channel message within 10 s']);
    vi.advanceTimersByTime(60_000);
    expect(expired).toHaveLength(1);
  });

  it('takes silence for a hang only while none of its requests is being answered', () => {
    dog.dispose();
    dog = new WorkerWatchdog(
      { ...LIMITS, segmentMs: 60_000 },
      (r) => expired.push(r),
      () => hellos++,
    );
    dog.start();
    dog.received();
    dog.requestStarted();
    vi.advanceTimersByTime(900); // a slow LLM call: the worker waits for the host
    expect(expired).toEqual([]);
    dog.requestFinished();
    vi.advanceTimersByTime(299);
    dog.received(); // its next request resets the silence
    vi.advanceTimersByTime(299);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['worker hung: silent on its channel for 0.3 s']);
    expect(hellos).toBe(1);
  });
});
