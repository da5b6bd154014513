import { copyFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  WORKER_BUNDLE_FILE,
  WORKER_SNAPSHOT_FILE,
  WORKER_SNAPSHOT_MANIFEST,
  snapshotBeside,
  workerProgramArgs,
  workerReadPaths,
} from '../../../../main/agent/spawn/worker-files.ts';
import { makeTempDir, removeTempDir } from '../../../support/test-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

/** A folder with a bundle, a snapshot built after it, and `manifest` beside them. */
async function builtWorker(manifest: Record<string, unknown> | null) {
  const dir = await makeTempDir('ccos-snapshot-choice-');
  dirs.push(dir);
  const bundle = path.join(dir, WORKER_BUNDLE_FILE);
  const blob = path.join(dir, WORKER_SNAPSHOT_FILE);
  writeFileSync(bundle, '// bundle\n');
  writeFileSync(blob, 'blob');
  utimesSync(bundle, new Date(1_000_000), new Date(1_000_000));
  utimesSync(blob, new Date(2_000_000), new Date(2_000_000));
  if (manifest !== null) {
    writeFileSync(path.join(dir, WORKER_SNAPSHOT_MANIFEST), JSON.stringify(manifest));
  }
  return { dir, bundle, blob };
}

const THIS_NODE = { node_version: process.version, arch: process.arch };

describe('which worker program a spawner runs: the start-up snapshot only where it fits', () => {
  it('takes the snapshot this Node built from this bundle', async () => {
    const { bundle, blob } = await builtWorker(THIS_NODE);
    expect(snapshotBeside(bundle, process.execPath)).toBe(blob);
  });

  it('refuses a snapshot another Node version or architecture built (it would not start)', async () => {
    const other = await builtWorker({ ...THIS_NODE, node_version: 'v23.0.0' });
    expect(snapshotBeside(other.bundle, process.execPath)).toBeNull();
    const arch = await builtWorker({ ...THIS_NODE, arch: 'riscv64' });
    expect(snapshotBeside(arch.bundle, process.execPath)).toBeNull();
  });

  it('refuses a snapshot without its manifest (an interrupted build) or with a broken one', async () => {
    const none = await builtWorker(null);
    expect(snapshotBeside(none.bundle, process.execPath)).toBeNull();
    const broken = await builtWorker(THIS_NODE);
    writeFileSync(path.join(broken.dir, WORKER_SNAPSHOT_MANIFEST), '{"node_version":');
    expect(snapshotBeside(broken.bundle, process.execPath)).toBeNull();
  });

  it('refuses a snapshot older than the bundle (rebuilt without it)', async () => {
    const { bundle, blob } = await builtWorker(THIS_NODE);
    utimesSync(blob, new Date(500_000), new Date(500_000));
    expect(snapshotBeside(bundle, process.execPath)).toBeNull();
  });

  it('refuses it for a worker on another Node binary than the host', async () => {
    const { dir, bundle } = await builtWorker(THIS_NODE);
    const otherNode = path.join(dir, 'node');
    copyFileSync(process.execPath, otherNode);
    expect(snapshotBeside(bundle, otherNode)).toBeNull();
  });

  it('starts a snapshot with --snapshot-blob and lets the worker read that file alone', () => {
    const program = { kind: 'snapshot', path: '/app/agent-worker.snapshot.blob' } as const;
    expect(workerProgramArgs(program)).toEqual(['--snapshot-blob', program.path]);
    expect(workerReadPaths(program)).toEqual([program.path]);
  });
});
