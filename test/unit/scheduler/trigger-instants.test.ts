import { describe, expect, it } from 'vitest';
import { compileTrigger } from '../../../main/scheduler/trigger-instants.ts';
import { isAppError } from '../../../main/errors.ts';

const anchor = { start_at: null, created_at: '2026-01-01T00:00:00.000Z' };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function instants(trigger: Parameters<typeof compileTrigger>[0], fromIso: string, n: number) {
  const compiled = compileTrigger(trigger, anchor);
  const out: (string | null)[] = [];
  let after = Date.parse(fromIso);
  for (let i = 0; i < n; i++) {
    const next = compiled.next(after);
    out.push(iso(next));
    if (next === null) break;
    after = next;
  }
  return out;
}

/** The DST instants documented in docs/scheduler.md, as fixed UTC instants. */
describe('cron instants across Europe/Berlin DST changes (croner 11)', () => {
  const berlin = { kind: 'cron' as const, expression: '30 2 * * *', timezone: 'Europe/Berlin' };

  it('2026-03-29, when 02:30 does not exist, fires at 03:00 CEST (01:00Z), the first valid time after the gap', () => {
    expect(instants(berlin, '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('2026-10-25, when 02:30 happens twice, fires once, at the first (02:30 CEST, 00:30Z)', () => {
    expect(instants(berlin, '2026-10-23T12:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, first of the two
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('an interval expression runs on both occurrences of the repeated hour', () => {
    expect(
      instants(
        { kind: 'cron', expression: '30 * * * *', timezone: 'Europe/Berlin' },
        '2026-10-24T23:45:00Z',
        4,
      ),
    ).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:30:00.000Z',
      '2026-10-25T03:30:00.000Z',
    ]);
  });
});

describe('every and at instants', () => {
  it('every counts from the creation (k ≥ 1) or from start_at (k ≥ 0)', () => {
    expect(instants({ kind: 'every', every_ms: 3_600_000 }, '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
    ]);
    const fromStart = compileTrigger(
      { kind: 'every', every_ms: 3_600_000 },
      { ...anchor, start_at: '2026-01-02T00:00:00.000Z' },
    );
    expect(iso(fromStart.next(Date.parse('2026-01-01T05:00:00Z')))).toBe(
      '2026-01-02T00:00:00.000Z',
    );
    expect(iso(fromStart.next(Date.parse('2026-01-02T00:00:00Z')))).toBe(
      '2026-01-02T01:00:00.000Z',
    );
  });

  it('at names one instant', () => {
    expect(
      instants({ kind: 'at', at: '2026-01-01T10:00:00.000Z' }, '2026-01-01T00:00:00Z', 3),
    ).toEqual(['2026-01-01T10:00:00.000Z', null]);
  });

  it('a bad cron expression is INVALID_INPUT naming trigger.expression', () => {
    for (const expression of ['not a cron', '1 2 3 4 5 6 7', '61 * * * *']) {
      try {
        compileTrigger({ kind: 'cron', expression, timezone: 'UTC' }, anchor);
        expect.fail(`accepted ${expression}`);
      } catch (e) {
        expect(isAppError(e, 'INVALID_INPUT'), expression).toBe(true);
        expect((e as { details: unknown }).details).toEqual({
          fields: [expect.objectContaining({ path: 'trigger.expression' })],
        });
      }
    }
  });
});
