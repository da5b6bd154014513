import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.ts';
import type { Db } from '../store/schema.ts';
import { writeFileAtomically } from '../write-file-atomically.ts';

const KEY_BYTES = 32;

/**
 * The quarantine's keys, derived (HKDF-SHA256) from one 32-byte key in an owner-only file
 * beside the database (`quarantine.key`, docs/decisions.md "Quarantine key"). Its own file,
 * not the secret store's: the two hold different data with different lifetimes, and
 * deleting this one file shreds every quarantined blob at once. Never logged, never on the
 * chain, never in an error.
 */
export class QuarantineKey {
  /** AES-256-GCM key of the blobs and transform outputs. */
  readonly sealKey: Buffer;
  readonly #senderKey: Buffer;

  private constructor(master: Buffer) {
    this.sealKey = derive(master, 'ccos:quarantine.seal');
    this.#senderKey = derive(master, 'ccos:quarantine.sender');
  }

  /**
   * Reads the key file, creating it (0600) at first use. A missing file while sealed rows
   * exist stops start-up: a new key would silently turn every stored blob into noise.
   */
  static async open(deps: { db: Db; keyFile: string }): Promise<QuarantineKey> {
    let master = await readFile(deps.keyFile).catch(() => undefined);
    if (master === undefined) {
      const sealed = await deps.db
        .selectFrom('quarantine')
        .select('pointer')
        .limit(1)
        .executeTakeFirst();
      if (sealed !== undefined) {
        throw new AppError(
          'INTERNAL',
          `the quarantine key file ${deps.keyFile} is missing but the database holds quarantined content; restore the file, or purge the quarantine`,
        );
      }
      master = randomBytes(KEY_BYTES);
      await writeFileAtomically(deps.keyFile, master);
    }
    if (master.length !== KEY_BYTES)
      throw new AppError('INTERNAL', `the quarantine key file ${deps.keyFile} is damaged`);
    return new QuarantineKey(master);
  }

  /**
   * What the database keeps instead of a sender id (personal metadata): equal ids give equal
   * keys in this data dir, so a purge per sender finds its rows, and nobody without the key
   * file can test a guessed id against the database.
   */
  senderKey(senderId: string): string {
    return createHmac('sha256', this.#senderKey).update(senderId).digest('hex');
  }
}

function derive(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, KEY_BYTES));
}
