#!/usr/bin/env -S node --no-node-snapshot --max-semi-space-size=16
import './cli/require-node24.ts';
import { enableOwnCompileCache } from './cli/compile-cache.ts';

// The program is imported only after the compile cache is on: a static import would load and
// compile its whole module graph first, which is most of a start (docs/benchmarks.md, ui).
if (import.meta.main) {
  enableOwnCompileCache(process.env);
  const { runProgram } = await import('./cli/program.ts');
  process.exitCode = await runProgram(process.argv);
}
