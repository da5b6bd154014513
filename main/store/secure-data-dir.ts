import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { AppError } from '../errors.ts';

/** Owner-only: the data dir holds the database, the secret key and the admin token. */
export const DATA_DIR_MODE = 0o700;
/** Owner read/write: the database and its WAL and SHM files. */
export const DATABASE_FILE_MODE = 0o600;

/** Group- or other-writable bits. */
const WRITABLE_BY_OTHERS = 0o022;

/**
 * Creates the data dir owner-only, or checks an existing one before the host trusts anything
 * in it. A directory someone else can write is refused: they could have replaced the
 * database, planted a `secret.key` or swapped installed skills, and tightening the mode now
 * would not undo that — the person must look. One that others may merely read (a directory
 * made with a default umask) is tightened to 0700, as no file in it has been exposed to
 * writes. POSIX only: Windows has no mode bits (its ACLs are the user profile's).
 */
export async function secureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
  if (process.platform === 'win32') return;
  const info = await stat(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw unsafe(
      dir,
      `the data dir ${dir} belongs to another user (uid ${info.uid}, this process runs as uid ${uid})`,
      `start the host as the user who owns it, or use a data dir of your own`,
    );
  }
  const mode = info.mode & 0o777;
  if ((mode & WRITABLE_BY_OTHERS) !== 0) {
    throw unsafe(
      dir,
      `the data dir ${dir} can be written by other users (mode ${octal(mode)})`,
      `check that nothing in it was changed by someone else, then run \`chmod 700 ${dir}\` and start again`,
    );
  }
  if (mode !== DATA_DIR_MODE) await chmod(dir, DATA_DIR_MODE);
}

/**
 * Makes `file` exist owner-only before SQLite opens it: SQLite creates a new database with
 * the umask's mode (often 0644), and gives its WAL and SHM files the database file's mode.
 */
export async function ensureOwnerOnlyFile(file: string): Promise<void> {
  const handle = await open(file, 'a', DATABASE_FILE_MODE);
  try {
    if (process.platform !== 'win32' && ((await handle.stat()).mode & 0o777) !== DATABASE_FILE_MODE)
      await handle.chmod(DATABASE_FILE_MODE);
  } finally {
    await handle.close();
  }
}

/** Tightens a file that may exist (a WAL or SHM left by an older version) to 0600. */
export async function tightenIfPresent(file: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    await chmod(file, DATABASE_FILE_MODE);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  }
}

function unsafe(dir: string, what: string, fix: string): AppError {
  return new AppError('DATA_DIR_UNSAFE', `${what}: ${fix}`, { data_dir: dir });
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
