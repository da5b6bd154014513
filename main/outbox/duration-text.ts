import { AppError } from '../errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * `7d`, `1d12h`, `90s` in milliseconds, as `durationTextSchema` admits them. The API takes the
 * text the CLI does, so `ccos outbox prune --older-than 7d` sends what the person typed.
 */
export function durationTextMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? ''] ?? NaN), 0);
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text || !Number.isSafeInteger(ms))
    throw new AppError('INVALID_INPUT', `"${text}" is not a duration such as 30m, 12h or 7d`, {
      fields: [{ path: 'older_than', message: 'not a duration' }],
    });
  return ms;
}
