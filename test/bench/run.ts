/**
 * `npm run bench -- [suite]`: runs one benchmark suite, or all of them, and prints a table.
 * Suites are registered here statically; add yours as `name: () => import('./name.bench.ts')`.
 * Exits non-zero when a suite fails or the name is unknown.
 */
import type { BenchResult, BenchSuite } from './bench-result.ts';

const SUITES: Record<string, () => Promise<BenchSuite>> = {
  store: () => import('./store.bench.ts'),
  gateway: () => import('./gateway.bench.ts'),
  skills: () => import('./skills.bench.ts'),
  autonomy: () => import('./autonomy.bench.ts'),
  jail: () => import('./jail.bench.ts'),
  scheduler: () => import('./scheduler.bench.ts'),
  ui: () => import('./ui.bench.ts'),
  mcp: () => import('./mcp.bench.ts'),
  // --- connectors (issue 23) ---
  connectors: () => import('./connectors.bench.ts'),
};

function format(n: number | undefined): string {
  if (n === undefined) return '';
  if (Number.isInteger(n)) return String(n);
  return n >= 100 ? n.toFixed(1) : n.toPrecision(3);
}

/** A plain-text table, also valid Markdown, so it can be pasted into docs/benchmarks.md. */
export function renderTable(result: BenchResult): string {
  const header = ['metric', 'value', 'unit', 'baseline', 'ratio'];
  const body = result.rows.map((r) => [
    r.metric,
    format(r.value),
    r.unit,
    format(r.baseline),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const requested = argv[0];
  if (requested !== undefined && !(requested in SUITES)) {
    console.error(`unknown bench suite "${requested}"; known: ${Object.keys(SUITES).join(', ')}`);
    return 2;
  }
  const names = requested === undefined ? Object.keys(SUITES) : [requested];
  let failed = 0;
  for (const name of names) {
    const load = SUITES[name];
    if (load === undefined) continue;
    try {
      const result = await (await load()).run();
      console.log(`\n## ${result.suite}\n`);
      console.log(renderTable(result));
      for (const note of result.notes ?? []) console.log(`\n${note}`);
    } catch (e) {
      failed++;
      console.error(`bench suite "${name}" failed:`, e);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
