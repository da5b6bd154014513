import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `content` to `file` owner-only (0600) through a temp file and a rename, so a
 * crash leaves either the old file or the new one, never half of one.
 *
 * Durable, not only atomic: the temp file is fsynced before the rename (else a power cut
 * can leave the new name pointing at an empty file — an empty `secret.key` loses every
 * secret), and the directory is fsynced after it (else the rename itself may be lost).
 */
export async function writeFileAtomically(file: string, content: string | Buffer): Promise<void> {
  // Unique per call: two writers of one file in this process must not share a temp file.
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(path.dirname(file));
}

/**
 * Makes the entries of `dir` (a created, renamed or removed name) durable. Windows cannot
 * open a directory for this, and NTFS journals names itself, so it is skipped there.
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
