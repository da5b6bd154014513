import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../../main/errors.ts';

describe('isAppError', () => {
  it('recognises the product’s codes, also as plain data that crossed a process', () => {
    expect(isAppError(new AppError('NOT_FOUND', 'no such run'))).toBe(true);
    expect(isAppError({ code: 'BUDGET_EXCEEDED', message: 'spent' })).toBe(true);
    expect(isAppError(new AppError('NOT_FOUND', 'x'), 'NOT_FOUND')).toBe(true);
    expect(isAppError(new AppError('NOT_FOUND', 'x'), 'INTERNAL')).toBe(false);
  });

  it('takes a driver’s or the OS’s error for a fault, not an expected failure', () => {
    // A sqlite constraint raised mid-transaction once passed for an app error and was
    // swallowed as "the run moved on", stranding the run in `running`.
    const sqlite = Object.assign(new Error('SQLITE_CONSTRAINT: injected'), {
      code: 'SQLITE_CONSTRAINT',
    });
    const net = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isAppError(sqlite)).toBe(false);
    expect(isAppError(net)).toBe(false);
    expect(isAppError({ code: 'MADE_UP_CODE', message: 'x' })).toBe(false);
  });
});
