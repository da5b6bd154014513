import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { HOST_LOCK_FILE, lockDataDir } from '../../../main/store/data-dir-lock.ts';
import { openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

/** The pid of a process that has exited (and been reaped): a crashed host's pid. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('data dir lock', () => {
  let dir: string;
  let lockFile: string;
  beforeEach(async () => {
    dir = await makeTempDir('ccos-lock-');
    lockFile = path.join(dir, HOST_LOCK_FILE);
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const writeLock = (holder: Record<string, unknown>): Promise<void> =>
    writeFile(lockFile, JSON.stringify(holder));

  it('writes the holder pid to host.lock and removes it on release', async () => {
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
    await lock.release(); // twice is harmless
    await (await lockDataDir(dir)).release();
  });

  it('refuses a second holder while the first is alive, naming its pid, and allows one after release', async () => {
    const first = await lockDataDir(dir);
    const error: unknown = await lockDataDir(dir).catch((e: unknown) => e);
    expect(isAppError(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toContain(`in use by another host (pid ${process.pid})`);
    expect((error as Error).message).toContain(lockFile);
    await first.release();
    await (await lockDataDir(dir)).release();
  });

  it('refuses a lock held by another live process', async () => {
    await writeLock({ pid: process.ppid, process_started: 1, token: 'other' });
    await expect(lockDataDir(dir)).rejects.toThrow(`pid ${process.ppid}`);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ token: 'other' });
  });

  it('takes over a stale lock whose holder is dead', async () => {
    const pid = deadPid();
    await writeLock({ pid, process_started: 1, token: 'crashed' });
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({
      pid: process.pid,
      token: lock.holder.token,
    });
    await lock.release();
  });

  it('takes over a lock left by an earlier process with this same pid (a restarted container)', async () => {
    await writeLock({ pid: process.pid, process_started: 1, token: 'earlier-life' });
    const lock = await lockDataDir(dir, { isAlive: () => true });
    expect(lock.holder.token).not.toBe('earlier-life');
    await lock.release();
  });

  it('takes over a lock file it cannot read as a lock', async () => {
    await writeFile(lockFile, 'not json');
    await (await lockDataDir(dir)).release();
  });

  it('release leaves alone a lock another host took over', async () => {
    const lock = await lockDataDir(dir);
    await writeLock({ pid: process.ppid, process_started: 1, token: 'taker' });
    await lock.release();
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ token: 'taker' });
  });

  it('openStore holds the lock until close: a second store on the same dir is refused', async () => {
    const store = await openStore({ dataDir: dir });
    await expect(openStore({ dataDir: dir })).rejects.toSatisfy((e) => isAppError(e, 'CONFLICT'));
    await store.close();
    expect(existsSync(lockFile)).toBe(false);
    const again = await openStore({ dataDir: dir });
    await again.close();
  });
});
