import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes `content` to `file` owner-only (0600) through a temp file and a rename, so a
 * crash leaves either the old file or the new one, never half of one.
 */
export async function writeFileAtomically(file: string, content: string | Buffer): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, file);
}
