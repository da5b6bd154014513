import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { labelAtomSchema } from '../../contracts/labels.ts';
import { verifierResultSchema, type VerifierResult } from '../../contracts/transforms.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { canonicalJson } from '../chain/canonical-json.ts';
import { label as labelOf, type Label } from '../policy/labels.ts';
import { open, seal } from '../quarantine/sealed-box.ts';

/** A stored transform output, opened: its exact bytes, their digest, and the verifier's last verdict. */
export type StoredOutput = {
  id: string;
  run_id: string;
  session_id: string;
  source_ref: string;
  capability_id: string;
  label: Label;
  /** The canonical JSON of the output: what the digest, the verifier and a release cover. */
  bytes: string;
  output: Record<string, unknown>;
  /** sha256 of `bytes`, recomputed on every read (never trusted from the row). */
  digest: string;
  verified_digest: string | null;
  verification: VerifierResult | null;
};

export function digestOf(bytes: string): string {
  return createHash('sha256').update(bytes, 'utf8').digest('hex');
}

/**
 * Transform outputs, sealed under the quarantine's key with their id as associated data:
 * derived from personal content, they get the same protection at rest, and an output is
 * only ever read back whole and authenticated.
 */
export class TransformOutputs {
  readonly #key: Buffer;

  constructor(sealKey: Buffer) {
    this.#key = sealKey;
  }

  async insertIn(
    tx: ChainTx,
    row: {
      run_id: string;
      session_id: string;
      source_ref: string;
      capability_id: string;
      capability_version: string;
      label: Label;
      output: Record<string, unknown>;
      created_at: string;
    },
  ): Promise<{ id: string; digest: string }> {
    const id = `tfo_${randomBytes(16).toString('hex')}`;
    const bytes = canonicalJson(row.output);
    const digest = digestOf(bytes);
    await tx.db
      .insertInto('transform_outputs')
      .values({
        id,
        run_id: row.run_id,
        session_id: row.session_id,
        source_ref: row.source_ref,
        capability_id: row.capability_id,
        capability_version: row.capability_version,
        label: JSON.stringify(row.label),
        digest,
        ...seal(this.#key, id, Buffer.from(bytes, 'utf8')),
        verified_digest: null,
        verification: null,
        created_at: row.created_at,
      })
      .execute();
    return { id, digest };
  }

  async getIn(tx: ChainTx, id: string): Promise<StoredOutput | undefined> {
    const row = await tx.db
      .selectFrom('transform_outputs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const bytes = open(this.#key, row.id, row).toString('utf8');
    return {
      id: row.id,
      run_id: row.run_id,
      session_id: row.session_id,
      source_ref: row.source_ref,
      capability_id: row.capability_id,
      label: labelOf(z.array(labelAtomSchema).parse(JSON.parse(row.label))),
      bytes,
      output: z.record(z.string(), z.unknown()).parse(JSON.parse(bytes)),
      digest: digestOf(bytes),
      verified_digest: row.verified_digest,
      verification:
        row.verification === null ? null : verifierResultSchema.parse(JSON.parse(row.verification)),
    };
  }

  /** Records the verifier's verdict on exactly the bytes of `digest`. */
  async recordVerificationIn(
    tx: ChainTx,
    id: string,
    digest: string,
    result: VerifierResult,
  ): Promise<void> {
    await tx.db
      .updateTable('transform_outputs')
      .set({ verified_digest: digest, verification: JSON.stringify(result) })
      .where('id', '=', id)
      // Only the bytes it read: a row whose digest differs is not this output.
      .where('digest', '=', digest)
      .execute();
  }
}
