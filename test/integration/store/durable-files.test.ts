import { execFile, execFileSync } from 'node:child_process';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectPath } from '../../support/project-path.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/** strace records the real system calls; without it (not Linux, not installed) this cannot look. */
const HAS_STRACE = ((): boolean => {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs `writeFileAtomically(file, 'key material')` in a child under strace; returns the trace. */
async function traceAtomicWrite(dir: string, file: string): Promise<string[]> {
  const traceFile = path.join(dir, 'trace.txt');
  const module = projectPath('main', 'write-file-atomically.ts');
  const script = `import { writeFileAtomically } from ${JSON.stringify(module)};
await writeFileAtomically(${JSON.stringify(file)}, 'key material');`;
  await promisify(execFile)('strace', [
    // Every thread (libuv runs file work on its pool), file descriptors shown as paths.
    '-f',
    '-y',
    '-qq',
    '-e',
    'trace=fsync,fdatasync,rename,renameat,renameat2',
    '-o',
    traceFile,
    process.execPath,
    '--input-type=module',
    '-e',
    script,
  ]);
  const trace = await readFile(traceFile, 'utf8');
  return trace.split('\n').filter((l) => l.trim() !== '');
}

/** Issue 17 #21: a power cut must not leave an empty `secret.key` (every secret lost). */
describe('write-file-atomically is durable', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-durable-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it.skipIf(!HAS_STRACE)(
    'fsyncs the temp file before the rename and the directory after it',
    async () => {
      const file = path.join(dir, 'secret.key');
      const trace = await traceAtomicWrite(dir, file);
      const renameAt = trace.findIndex((l) => /\brename(at2?)?\(.*secret\.key"/.test(l));
      expect(renameAt, trace.join('\n')).toBeGreaterThan(-1);
      const fileSync = trace.findIndex((l) =>
        /\bf(data)?sync\(\d+<[^>]*secret\.key\.[^>]*\.tmp>/.test(l),
      );
      const dirSync = trace.findIndex(
        (l, i) => i > renameAt && l.includes(`sync(`) && l.includes(`<${dir}>`),
      );
      expect(fileSync, trace.join('\n')).toBeGreaterThan(-1);
      expect(fileSync).toBeLessThan(renameAt);
      expect(dirSync, trace.join('\n')).toBeGreaterThan(renameAt);
      expect(await readFile(file, 'utf8')).toBe('key material');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    },
  );
});

describe.skipIf(process.platform === 'win32')('ccos serve on an unsafe data dir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-unsafe-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('refuses to start, says how to fix it, and writes nothing there', async () => {
    await chmod(dir, 0o777);
    const result = await runCli(['serve', '--data-dir', dir, '--port', '0']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('[DATA_DIR_UNSAFE]');
    expect(result.stderr).toContain(`chmod 700 ${dir}`);
    expect(await readdir(dir)).toEqual([]);
  });
});
