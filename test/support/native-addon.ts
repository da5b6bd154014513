import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectPath } from './project-path.ts';

/**
 * A real native addon built for this Node, for tests that check a worker cannot load one:
 * isolated-vm's prebuilt binary (the product's only native dependency). Picks the file
 * for this platform, architecture and ABI, preferring the glibc build on Linux.
 */
export function nativeAddonPath(): string {
  const dir = projectPath(
    'node_modules',
    'isolated-vm',
    'prebuilds',
    `${process.platform}-${process.arch}`,
  );
  const abi = `.abi${process.versions.modules}.`;
  const candidates = readdirSync(dir).filter((f) => f.includes(abi) && f.endsWith('.node'));
  const chosen = candidates.find((f) => !f.includes('musl')) ?? candidates[0];
  if (chosen === undefined)
    throw new Error(`no isolated-vm prebuild for ABI ${process.versions.modules} in ${dir}`);
  return path.join(dir, chosen);
}
