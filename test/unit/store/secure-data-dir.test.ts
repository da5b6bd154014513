import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { DATABASE_FILE, openStore } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

const modeOf = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

/** Issue 17 #21: the data dir is the host's alone, and so are its database files. */
describe.skipIf(process.platform === 'win32')('data dir and database file modes', () => {
  let parent: string;
  let dataDir: string;
  beforeEach(async () => {
    parent = await makeTempDir('ccos-modes-');
    dataDir = path.join(parent, 'data');
  });
  afterEach(async () => {
    await removeTempDir(parent);
  });

  it('creates the data dir 0700 and the database, WAL and SHM files 0600, whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      const store = await openStore({ dataDir });
      try {
        // A write, so the WAL and SHM files certainly exist.
        await sql`create table probe (x integer) strict`.execute(store.db);
        expect(await modeOf(dataDir)).toBe(0o700);
        const file = path.join(dataDir, DATABASE_FILE);
        for (const f of [file, `${file}-wal`, `${file}-shm`])
          expect(await modeOf(f), f).toBe(0o600);
      } finally {
        await store.close();
      }
    } finally {
      process.umask(previous);
    }
  });

  it('tightens a data dir and database files that others could only read', async () => {
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    const file = path.join(dataDir, DATABASE_FILE);
    await writeFile(file, '');
    await chmod(file, 0o644);
    const store = await openStore({ dataDir });
    await store.close();
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(file)).toBe(0o600);
  });

  for (const mode of [0o777, 0o770, 0o702]) {
    it(`refuses a data dir of mode 0${mode.toString(8)} with the fix in the message, touching nothing`, async () => {
      await mkdir(dataDir);
      await chmod(dataDir, mode);
      const error = await openStore({ dataDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(error, 'DATA_DIR_UNSAFE'), String(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('can be written by other users');
      expect(message).toContain(`chmod 700 ${dataDir}`);
      // Nothing was trusted or written: no lock, no database.
      expect(await readdir(dataDir)).toEqual([]);
      expect(await modeOf(dataDir)).toBe(mode);
    });
  }
});
