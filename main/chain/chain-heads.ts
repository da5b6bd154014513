import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CHAIN_EXPORT_FORMAT,
  chainEntrySchema,
  signedHeadSchema,
  type ChainExportLine,
  type ChainVerifyResult,
  type SignedHead,
} from '../../contracts/chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { Db } from '../store/schema.ts';
import { syncDirectory, writeFileAtomically } from '../write-file-atomically.ts';
import type { CausalChain } from './causal-chain.ts';
import {
  openChainSigningKey,
  publicKeyText,
  signHead,
  type ChainSigningKey,
} from './chain-signing-key.ts';
import { checkSignedHeads } from './check-signed-heads.ts';
import { parseStoredJson } from './stored-json.ts';

const LOOKUP_PAGE = 500;
const EXPORT_PAGE = 1000;

export type ChainHeadsDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  /** The private key's file (0600); created at first start. */
  keyFile: string;
  /** Where signed heads are appended, one JSON line each. */
  headsFile: string;
  /** Where the public key is written (PEM), for a person to keep elsewhere and pin. */
  publicKeyFile: string;
};

/**
 * Signed chain heads (issue 17 #33). A hash chain alone cannot tell a database that was
 * rewritten and re-hashed, or cut short, from the real one: whoever can write the file can
 * recompute every hash. So the host signs its head with an ed25519 key kept outside the
 * database — periodically, on stop and on export — and appends each signed head to a file
 * beside it. Verification (online here, offline from an export) checks every head against
 * the entry it names. Entries after the newest head are covered once the next head is signed.
 */
export class ChainHeads {
  readonly #deps: ChainHeadsDeps;
  readonly #key: ChainSigningKey;
  #last: SignedHead | undefined;
  /** Signing runs one at a time (the file is appended to, never rewritten). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(deps: ChainHeadsDeps, key: ChainSigningKey, last: SignedHead | undefined) {
    this.#deps = deps;
    this.#key = key;
    this.#last = last;
  }

  static async open(deps: ChainHeadsDeps): Promise<ChainHeads> {
    const heads = await readHeadsFile(deps.headsFile);
    const key = await openChainSigningKey(deps.keyFile, { headsExist: heads.length > 0 });
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    if ((await readFile(deps.publicKeyFile, 'utf8').catch(() => undefined)) !== pem)
      await writeFileAtomically(deps.publicKeyFile, pem);
    return new ChainHeads(deps, key, heads.at(-1));
  }

  get keyId(): string {
    return this.#key.keyId;
  }

  /** Signs the current head if it moved since the last signature; returns the newest head. */
  sign(): Promise<SignedHead | undefined> {
    const next = this.#queue.then(() => this.#signNow());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Signs every `intervalMs` while the head moves, and once more when disposed (a clean stop). */
  start(intervalMs: number, onError: (e: unknown) => void): Disposable {
    const timer = setInterval(() => {
      this.sign().catch(onError);
    }, intervalMs);
    timer.unref();
    return {
      dispose: async () => {
        clearInterval(timer);
        await this.sign();
      },
    };
  }

  /** `CausalChain.verify`, then every signed head against the entry it names. */
  async verify(): Promise<ChainVerifyResult> {
    const base = await this.#deps.chain.verify();
    if (!base.ok) return base;
    const heads = await readHeadsFile(this.#deps.headsFile).catch(() => undefined);
    if (heads === undefined) {
      return {
        ok: false,
        entries: base.entries,
        broken_at_seq: 0,
        reason: 'bad_signature',
        message: `the signed heads file ${this.#deps.headsFile} is damaged`,
      };
    }
    const broken = await checkSignedHeads(heads, this.#key.publicKey, base.entries, (seqs) =>
      this.#hashesAt(seqs),
    );
    if (broken !== undefined) return { ok: false, entries: base.entries, ...broken };
    return {
      ...base,
      signed_heads: {
        count: heads.length,
        last_seq: heads.at(-1)?.seq ?? null,
        key_id: this.#key.keyId,
      },
    };
  }

  /**
   * The chain as export lines: a header with the public key, every entry up to a head signed
   * now, then every signed head. Read page by page, so memory stays flat.
   */
  async *exportLines(): AsyncGenerator<ChainExportLine> {
    const head = await this.sign();
    yield {
      format: CHAIN_EXPORT_FORMAT,
      exported_at: this.#deps.clock.now().toISOString(),
      public_key: publicKeyText(this.#key.publicKey),
      key_id: this.#key.keyId,
    };
    const until = head?.seq ?? 0;
    let after = 0;
    while (after < until) {
      const rows = await this.#deps.db
        .selectFrom('chain')
        .selectAll()
        .where('seq', '>', after)
        .where('seq', '<=', until)
        .orderBy('seq')
        .limit(EXPORT_PAGE)
        .execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        // As stored, not re-parsed into shape: the export must show what is in the file.
        yield { entry: chainEntrySchema.parse({ ...row, data: parseStoredJson(row.data) }) };
      }
      after = rows.at(-1)?.seq ?? until;
    }
    // Every head, also any past the chain's end: that is how a cut-short chain shows.
    for (const h of await readHeadsFile(this.#deps.headsFile)) yield { head: h };
  }

  async #signNow(): Promise<SignedHead | undefined> {
    const latest = await this.#deps.db
      .selectFrom('chain')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (latest === undefined) return this.#last;
    if (
      this.#last !== undefined &&
      this.#last.seq === latest.seq &&
      this.#last.hash === latest.hash
    )
      return this.#last;
    const head = signHead(this.#key, latest, this.#deps.clock.now().toISOString());
    await appendLine(this.#deps.headsFile, `${JSON.stringify(head)}\n`);
    this.#last = head;
    return head;
  }

  async #hashesAt(seqs: readonly number[]): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    for (let i = 0; i < seqs.length; i += LOOKUP_PAGE) {
      const rows = await this.#deps.db
        .selectFrom('chain')
        .select(['seq', 'hash'])
        .where('seq', 'in', seqs.slice(i, i + LOOKUP_PAGE))
        .execute();
      for (const r of rows) found.set(r.seq, r.hash);
    }
    return found;
  }
}

/** The signed heads in a heads file (none if it does not exist); a damaged line throws. */
export async function readHeadsFile(file: string): Promise<SignedHead[]> {
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    if ((e as { code?: unknown }).code === 'ENOENT') return '';
    throw e;
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => signedHeadSchema.parse(JSON.parse(line)));
}

/** Appends durably: the line is on disk (and the file's name too) before this resolves. */
async function appendLine(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a', 0o600);
  try {
    const created = (await handle.stat()).size === 0;
    await handle.write(line);
    await handle.sync();
    if (created) await syncDirectory(path.dirname(file));
  } finally {
    await handle.close();
  }
}
