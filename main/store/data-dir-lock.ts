import { randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.ts';

/** In the data dir while a host has it open: who holds it (see `lockDataDir`). */
export const HOST_LOCK_FILE = 'host.lock';

/** What the lock file says about its holder. */
export type LockHolder = {
  pid: number;
  /** When the holder process started (ms since the epoch), to tell apart two lives of a pid. */
  process_started: number;
  /** Unique per lock taken, so a holder removes only its own lock. */
  token: string;
};

export type DataDirLock = {
  file: string;
  holder: LockHolder;
  /** Removes the lock file if it is still this holder's; safe to call twice. */
  release: () => Promise<void>;
};

export type LockDataDirOptions = {
  /** Whether a process exists; tests replace it. Defaults to a signal-0 probe. */
  isAlive?: (pid: number) => boolean;
};

/**
 * Takes the single-host lock of `dataDir`: one host process writes a data dir at a time.
 * The causal chain keeps its head in memory, which is only correct while it is the chain's
 * sole writer; two hosts would also fight over the gateway info and admin token files.
 *
 * The lock is a file naming its holder's pid, created atomically with its content (a hard
 * link to a fully written temp file, which fails if the lock exists). A lock whose holder
 * is dead — a host killed by SIGKILL or a power cut cannot remove it — is stale and taken
 * over, so a restart after a crash is never blocked; a live holder (another process, or
 * another host in this one) makes this throw CONFLICT naming the pid.
 *
 * Limits, accepted for a desktop app: a dead holder's pid reused by an unrelated process
 * makes the lock look held (the message says how to clear it); and two hosts taking over
 * the same stale lock in the same instant could both succeed — the chain's `seq` primary
 * key still keeps them from forking it.
 */
export async function lockDataDir(
  dataDir: string,
  options: LockDataDirOptions = {},
): Promise<DataDirLock> {
  const isAlive = options.isAlive ?? processExists;
  const file = path.join(dataDir, HOST_LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    process_started: Math.round(performance.timeOrigin),
    token: randomUUID(),
  };
  const content = `${JSON.stringify(holder)}\n`;
  // Two rounds: the second follows the removal of a stale lock, or a lock that vanished.
  for (let round = 0; round < 2; round++) {
    if (await createExclusively(file, content)) {
      return { file, holder, release: () => releaseLock(file, holder.token) };
    }
    const existing = await readLock(file);
    if (existing === undefined) continue; // released between our attempt and the read
    const other = parseHolder(existing);
    if (other !== undefined && isHeld(other, holder, isAlive)) {
      throw new AppError(
        'CONFLICT',
        `the data dir ${dataDir} is in use by another host (pid ${other.pid}): stop that host, or start this one with another data dir. If no host is running there, delete ${file}.`,
        { lock_file: file, pid: other.pid },
      );
    }
    // Stale (or not a lock this code wrote). Remove it only if it is still what we read.
    if ((await readLock(file)) === existing) await rm(file, { force: true });
  }
  throw new AppError(
    'CONFLICT',
    `the data dir ${dataDir} is being taken by another host starting at the same time`,
    { lock_file: file },
  );
}

function isHeld(other: LockHolder, me: LockHolder, isAlive: (pid: number) => boolean): boolean {
  // Our own pid: this process (another host in it), or an earlier life of the pid — a
  // container restarted on the same volume often gets the same pid back.
  if (other.pid === me.pid) return other.process_started === me.process_started;
  return isAlive(other.pid);
}

/** True if `file` was created with `content`; false if it already exists. */
async function createExclusively(file: string, content: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  try {
    await link(temp, file);
    return true;
  } catch (e) {
    if (errorCode(e) === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
}

async function readLock(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function parseHolder(content: string): LockHolder | undefined {
  try {
    const v = JSON.parse(content) as Partial<Record<keyof LockHolder, unknown>>;
    if (
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 && // 0 and negative pids would probe process groups
      typeof v.process_started === 'number' &&
      typeof v.token === 'string'
    ) {
      return { pid: v.pid as number, process_started: v.process_started, token: v.token };
    }
  } catch {
    /* not JSON: not a lock this code wrote */
  }
  return undefined;
}

async function releaseLock(file: string, token: string): Promise<void> {
  const content = await readLock(file);
  // Never remove a lock another host took over (it judged this one dead).
  if (content !== undefined && parseHolder(content)?.token === token) {
    await rm(file, { force: true });
  }
}

/** Signal 0 checks that a process exists without touching it; EPERM means it does. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}
