import { describe, expect, it } from 'vitest';
import { durationTextSchema } from '../../../contracts/outbox.ts';
import { durationTextMs } from '../../../main/outbox/duration-text.ts';
import { appErrorCodeOf } from '../../support/app-error-code.ts';

describe('outbox prune durations (issue 23)', () => {
  it('reads whole units and their sums', () => {
    expect(durationTextMs('7d')).toBe(7 * 86_400_000);
    expect(durationTextMs('1d12h')).toBe(36 * 3_600_000);
    expect(durationTextMs('90s')).toBe(90_000);
    expect(durationTextMs('250ms')).toBe(250);
  });

  it('refuses text that is not a duration, in the schema and in the parser', async () => {
    for (const bad of ['', '7', 'd', '7w', '7d ', '-1d', '1d;drop'])
      expect(durationTextSchema.safeParse(bad).success).toBe(false);
    expect(await appErrorCodeOf(Promise.resolve().then(() => durationTextMs('7w')))).toBe(
      'INVALID_INPUT',
    );
    // Past Number.MAX_SAFE_INTEGER the sum is not a duration any more.
    expect(
      await appErrorCodeOf(Promise.resolve().then(() => durationTextMs(`${'9'.repeat(20)}d`))),
    ).toBe('INVALID_INPUT');
  });
});
