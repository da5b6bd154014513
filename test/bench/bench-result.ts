/** One measured figure; `baseline` and `ratio` when it is compared with another. */
export type BenchRow = {
  metric: string;
  value: number;
  unit: string;
  /** The same figure for the baseline, measured in the same run on the same machine. */
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
};

/** What a suite module's `run()` returns. */
export type BenchResult = {
  suite: string;
  rows: BenchRow[];
  /** Free-text lines printed under the table (sizes, environment). */
  notes?: string[];
};

/** A suite module: `test/bench/<name>.bench.ts` exporting `run`. */
export type BenchSuite = {
  run: () => Promise<BenchResult>;
};

/** Percentile (0..1) of already-sorted samples, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function mean(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

/** A figure in milliseconds beside its baseline, with their ratio. */
export function compared(metric: string, value: number, baseline: number): BenchRow {
  return { metric, value, unit: 'ms', baseline, ratio: value / baseline };
}

/** `compared` for one percentile (0..1) of two sorted samples. */
export function comparedAt(
  metric: string,
  value: readonly number[],
  baseline: readonly number[],
  p: number,
): BenchRow {
  return compared(metric, percentile(value, p), percentile(baseline, p));
}
