import { describe, expect, it } from 'vitest';
import { hasPassed, isBefore, toUtcInstant } from '../../main/instant.ts';

/** 01:00 UTC, although its text sorts after 05:00Z's. */
const TOKYO_0100Z = '2030-01-01T10:00:00+09:00';
const UTC_0500Z = '2030-01-01T05:00:00.000Z';
/** 07:00 UTC, although its text sorts before 05:00Z's. */
const NEW_YORK_0700Z = '2030-01-01T02:00:00-05:00';

/* Instants are points in time: compared as numbers, never as text (issue 17 #12). */
describe('instants', () => {
  it('orders instants with different offsets by time, not by their text', () => {
    expect([UTC_0500Z, TOKYO_0100Z].sort()).toEqual([UTC_0500Z, TOKYO_0100Z]);
    expect(isBefore(TOKYO_0100Z, UTC_0500Z)).toBe(true);
    expect(isBefore(UTC_0500Z, NEW_YORK_0700Z)).toBe(true);
    expect(isBefore(NEW_YORK_0700Z, TOKYO_0100Z)).toBe(false);
    // Strict: the same instant written two ways is not before itself.
    expect(isBefore(UTC_0500Z, '2030-01-01T14:00:00+09:00')).toBe(false);
  });

  it('normalises to UTC and tells whether an instant has passed', () => {
    expect(toUtcInstant(TOKYO_0100Z)).toBe('2030-01-01T01:00:00.000Z');
    expect(hasPassed(TOKYO_0100Z, new Date(UTC_0500Z))).toBe(true);
    expect(hasPassed(NEW_YORK_0700Z, new Date(UTC_0500Z))).toBe(false);
    expect(() => toUtcInstant('not a time')).toThrow(RangeError);
  });
});
