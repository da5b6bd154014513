import { InvalidArgumentError } from 'commander';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * `--every 4h`, `--jitter 90s`: a duration of whole units (`ms`, `s`, `m`, `h`, `d`, also
 * combined as `1h30m`), or bare milliseconds. A bad value is a usage error (exit 2).
 */
export const duration =
  (flag: string) =>
  (value: string): number => {
    const text = value.trim();
    if (/^\d+$/.test(text)) return checked(flag, value, Number(text));
    const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
      throw new InvalidArgumentError(
        `${flag} takes a duration such as 90s, 30m, 4h, 1d or 1h30m, not "${value}".`,
      );
    }
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? 'ms'] ?? 1), 0);
    return checked(flag, value, ms);
  };

function checked(flag: string, value: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1)
    throw new InvalidArgumentError(`${flag} must be longer than 0, not "${value}".`);
  return ms;
}

/** `4h30m` for a person reading a table. */
export function formatDuration(ms: number): string {
  const out: string[] = [];
  let left = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (left >= size) {
      out.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
  }
  if (left > 0 || out.length === 0) out.push(`${left}ms`);
  return out.join('');
}
