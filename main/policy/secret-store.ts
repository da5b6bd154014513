import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError } from '../errors.ts';
import type { ActorContext } from '../actor-context.ts';
import type { Db } from '../store/schema.ts';
import { writeFileAtomically } from '../write-file-atomically.ts';
import { auditedBy } from '../actor-context.ts';
import { MIN_KNOWN_LENGTH } from './redactor.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Secret names as skills and settings reference them, e.g. `MOLTBOOK_API_KEY`. */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_SECRET_BYTES = 16 * 1024;

/** How `keyedHash` values begin, so a stored value says what it is (and a plain one stands out). */
export const KEYED_HASH_PREFIX = 'hmac-sha256:';

/** Hears every secret value the store holds, so redaction can replace it anywhere. */
export type SecretValueListener = (value: string) => void;

/**
 * The secret store (ARCHITECTURE.md §9): `secret.token` values live only here, encrypted
 * with AES-256-GCM under a key kept in an owner-only file beside the database, so the
 * database file alone reveals none of them. Values are referenced by name everywhere else
 * and are handed out only to the gateway code that injects them into an outgoing request.
 */
export class SecretStore {
  readonly #deps: { db: Db; chain: CausalChain; clock: Clock; key: Buffer };
  readonly #listeners = new Set<SecretValueListener>();
  /** Keys derived from the store's key, by purpose. */
  readonly #derived = new Map<string, Buffer>();

  private constructor(deps: { db: Db; chain: CausalChain; clock: Clock; key: Buffer }) {
    this.#deps = deps;
  }

  /** Opens the store, creating the key file (0600) at first use. */
  static async open(deps: {
    db: Db;
    chain: CausalChain;
    clock: Clock;
    keyFile: string;
  }): Promise<SecretStore> {
    let key = await readFile(deps.keyFile).catch(() => undefined);
    if (key === undefined) {
      const existing = await deps.db
        .selectFrom('secrets')
        .select('name')
        .limit(1)
        .executeTakeFirst();
      if (existing !== undefined) {
        throw new AppError(
          'INTERNAL',
          `the secret key file ${deps.keyFile} is missing but the database holds secrets; restore the file or delete the secrets`,
        );
      }
      key = randomBytes(KEY_BYTES);
      await writeFileAtomically(deps.keyFile, key);
    }
    if (key.length !== KEY_BYTES)
      throw new AppError('INTERNAL', `the secret key file ${deps.keyFile} is damaged`);
    return new SecretStore({ db: deps.db, chain: deps.chain, clock: deps.clock, key });
  }

  /** Stores (or replaces) a secret. The chain records the name, never the value. */
  async set(name: string, value: string, ctx: ActorContext): Promise<void> {
    await this.#deps.chain.transact((tx) => this.setIn(tx, name, value, ctx));
  }

  /** `set` inside a caller's transaction (onboarding stores a value with the step that returned it). */
  async setIn(tx: ChainTx, name: string, value: string, ctx: ActorContext): Promise<void> {
    if (!SECRET_NAME.test(name)) {
      throw new AppError(
        'INVALID_INPUT',
        'secret names are UPPER_SNAKE_CASE, e.g. MOLTBOOK_API_KEY',
        {
          fields: [{ path: 'name', message: 'must match ^[A-Z][A-Z0-9_]{0,63}$' }],
        },
      );
    }
    if (value.length < MIN_KNOWN_LENGTH) {
      // Redaction cannot replace a short value without shredding ordinary text, so a short
      // secret could leak anywhere; refused rather than stored unprotected.
      throw new AppError(
        'INVALID_INPUT',
        `a secret value must be at least ${MIN_KNOWN_LENGTH} characters: shorter ones cannot be told apart from ordinary text, so they could not be kept out of logs and the audit trail`,
        { fields: [{ path: 'value', message: `shorter than ${MIN_KNOWN_LENGTH} characters` }] },
      );
    }
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
      throw new AppError(
        'INVALID_INPUT',
        `a secret value must be at most ${MAX_SECRET_BYTES} bytes`,
        {
          fields: [{ path: 'value', message: 'too long' }],
        },
      );
    }
    // Redaction must know the value before anything could log it.
    for (const listener of this.#listeners) listener(value);
    await this.#write(tx, name, value, ctx);
  }

  /**
   * Moves a secret to another name inside a caller's transaction (an approved pending value
   * becomes the real one); the value never leaves the host process.
   */
  async renameIn(tx: ChainTx, from: string, to: string, ctx: ActorContext): Promise<void> {
    const row = await tx.db
      .selectFrom('secrets')
      .selectAll()
      .where('name', '=', from)
      .executeTakeFirst();
    if (row === undefined) throw new AppError('NOT_FOUND', `secret ${from} not found`);
    await this.#write(tx, to, this.#decrypt(from, row), ctx);
    await tx.db.deleteFrom('secrets').where('name', '=', from).execute();
  }

  /** Deletes a secret if present, inside a caller's transaction (a denied pending value). */
  async discardIn(tx: ChainTx, name: string, ctx: ActorContext): Promise<void> {
    const result = await tx.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
    if (result.numDeletedRows === 0n) return;
    await tx.append({
      event_type: 'secret.deleted',
      ...auditedBy(ctx),
      data: { name },
    });
  }

  async #write(tx: ChainTx, name: string, value: string, ctx: ActorContext): Promise<void> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#deps.key, iv);
    cipher.setAAD(Buffer.from(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const now = this.#deps.clock.now().toISOString();
    const existed = await tx.db
      .selectFrom('secrets')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    await tx.db
      .insertInto('secrets')
      .values({ name, ciphertext, iv, tag, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ ciphertext, iv, tag, updated_at: now }))
      .execute();
    await tx.append({
      event_type: 'secret.written',
      ...auditedBy(ctx),
      data: { name, replaced: existed !== undefined },
    });
  }

  #decrypt(name: string, row: { iv: Buffer; tag: Buffer; ciphertext: Buffer }): string {
    const decipher = createDecipheriv('aes-256-gcm', this.#deps.key, row.iv);
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(row.tag);
    return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
  }

  /** The value, for the one gateway path that injects it into a request; undefined if unknown. */
  async reveal(name: string): Promise<string | undefined> {
    const row = await this.#deps.db
      .selectFrom('secrets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return this.#decrypt(name, row);
  }

  /** Every stored value, for seeding redaction at start-up. */
  async revealAll(): Promise<string[]> {
    const names = await this.names();
    const values = await Promise.all(names.map((n) => this.reveal(n)));
    return values.filter((v): v is string => v !== undefined);
  }

  async names(): Promise<string[]> {
    const rows = await this.#deps.db.selectFrom('secrets').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async delete(name: string, ctx: ActorContext): Promise<void> {
    await this.#deps.chain.transact(async (tx) => {
      const result = await tx.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new AppError('NOT_FOUND', `secret ${name} not found`);
      await tx.append({
        event_type: 'secret.deleted',
        ...auditedBy(ctx),
        data: { name },
      });
    });
  }

  /**
   * A keyed hash of `text` (HMAC-SHA256 under a key derived from the store's key for
   * `purpose`): what to keep instead of a caller-chosen value that may hold anything (an
   * `Idempotency-Key` can be a secret pasted by mistake). Equal inputs give equal hashes in
   * this data dir, and nobody without `secret.key` can test a guess against the database.
   */
  keyedHash(purpose: string, text: string): string {
    let key = this.#derived.get(purpose);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.#deps.key, Buffer.alloc(0), `ccos:${purpose}`, 32));
      this.#derived.set(purpose, key);
    }
    return `${KEYED_HASH_PREFIX}${createHmac('sha256', key).update(text).digest('hex')}`;
  }

  /** Hears each value as it is stored (redaction registers here). */
  onValue(listener: SecretValueListener): Disposable {
    this.#listeners.add(listener);
    return { dispose: () => void this.#listeners.delete(listener) };
  }
}
