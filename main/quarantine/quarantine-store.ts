import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { labelAtomSchema, type Taint } from '../../contracts/labels.ts';
import {
  quarantineIngestSchema,
  quarantinePurgeSchema,
  type ContentRef,
  type QuarantinePurge,
} from '../../contracts/quarantine.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError, BugError, invalidInput } from '../errors.ts';
import { describeLabel, join, label as labelOf, leq, type Label } from '../policy/labels.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Selectable } from 'kysely';
import type { Db, QuarantineTable } from '../store/schema.ts';
import type { QuarantineKey } from './quarantine-key.ts';
import { ttlFor } from './quarantine-policy.ts';
import { open, seal } from './sealed-box.ts';

/** What a blob's sealed plaintext holds besides its content. */
const sealedBlobSchema = z.strictObject({ content: z.string(), sender_id: z.string() });
const storedLabelSchema = z.array(labelAtomSchema);

/** The rules a refused dereference names (every denial is a chain entry with its rule). */
export const RULE_SESSION_BINDING = 'quarantine.session_binding';
export const RULE_INPUT_LABEL = 'quarantine.input_label';
export const RULE_UNKNOWN_POINTER = 'quarantine.unknown_pointer';
export const RULE_TTL = 'quarantine.ttl';

/** What a transform capability says when it asks for a blob. */
export type DereferenceRequest = {
  content_ref: string;
  /** Who reads: the transform capability's identity, recorded on every access. */
  capability_id: string;
  capability_version: string;
  /** The labels the capability accepts: a blob above them is not handed to it. */
  input_label: Label;
  justification: string;
  /** The run the transform serves: only its session's blobs may be read. */
  run: { id: string; session_id: string };
  step_id: string;
  ctx: ActorContext;
};

/** A blob as a transform sees it, the one place raw content exists outside the database. */
export type Dereferenced = {
  content_ref: ContentRef;
  content: string;
  sender_id: string;
  channel_id: string;
  label: Label;
  /** `trusted` only for the person's own messages: a transform's output carries it. */
  taint: Taint;
};

/** The person reading back their own local chat messages (the Chat page's history). */
export type ReadBackRequest = {
  /** Every pointer must be of this session and channel, or nothing is read. */
  session_id: string;
  channel_id: string;
  content_refs: readonly string[];
  /** The reader's identity on the chain (the chat history route). */
  capability_id: string;
  ctx: ActorContext;
};

/** A blob read back: its text, or why it is gone (expired; purged or swept). */
export type ReadBack = { content: string } | { gone: 'expired' | 'purged' };

/** Why a dereference was refused; the agent is told only that the pointer is not usable. */
export type DereferenceRefusal = { refused: string; rule_id: string };

export type QuarantineStoreDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  key: QuarantineKey;
  /** TTLs per channel come from the ingesting pack (the default pack unless named). */
  policies: PolicyPacks;
};

/**
 * The quarantine (CHAT-SECURITY-CONTRACT.md, "Quarantine"): raw inbound content as opaque
 * sealed blobs behind random pointers. Host code stores into it (`ingest`, for the
 * connectors issue); only transforms read from it (`dereferenceIn`), each read audited as
 * `quarantine.access` and bound to the reading run's session. The one other reader is the
 * person reading back their own local chat messages (`readBackIn`, also a `quarantine.access`;
 * docs/decisions.md). Nothing here exposes a blob's content or size to logs, chain or errors.
 */
export class QuarantineStore {
  readonly #deps: QuarantineStoreDeps;

  constructor(deps: QuarantineStoreDeps) {
    this.#deps = deps;
  }

  /** Stores raw inbound content; returns its pointer. A `message.ingest` entry names it. */
  ingest(
    input: unknown,
    ctx: ActorContext,
  ): Promise<{ content_ref: ContentRef; expires_at: string }> {
    return this.#deps.chain.transact((tx) => this.ingestIn(tx, input, ctx));
  }

  /** `ingest` inside a caller's transaction (a connector stores with its envelope). */
  async ingestIn(
    tx: ChainTx,
    input: unknown,
    ctx: ActorContext,
  ): Promise<{ content_ref: ContentRef; expires_at: string }> {
    const parsed = quarantineIngestSchema.safeParse(input);
    // zod's messages name limits and types, never the value (which is raw content).
    if (!parsed.success)
      throw invalidInput(
        'quarantine ingest',
        parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
      );
    const item = parsed.data;
    const session = await tx.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', item.session_id)
      .executeTakeFirst();
    if (session === undefined)
      throw new AppError('NOT_FOUND', `session ${item.session_id} not found`);
    const pack = this.#deps.policies.get(item.policy_pack ?? 'default');
    const now = this.#deps.clock.now();
    const expiresAt = new Date(now.getTime() + ttlFor(pack, item.channel_id)).toISOString();
    // 128 random bits: a pointer cannot be guessed from another one or from a count.
    const pointer: ContentRef = `q_${randomBytes(16).toString('hex')}`;
    const blobLabel = labelOf(item.label);
    const plaintext = Buffer.from(
      JSON.stringify({ content: item.content, sender_id: item.sender_id }),
      'utf8',
    );
    const sealed = seal(this.#deps.key.sealKey, pointer, plaintext);
    await tx.db
      .insertInto('quarantine')
      .values({
        pointer,
        session_id: item.session_id,
        sender_key: this.#deps.key.senderKey(item.sender_id),
        channel_id: item.channel_id,
        label: JSON.stringify(blobLabel),
        taint: item.taint,
        ...sealed,
        created_at: now.toISOString(),
        expires_at: expiresAt,
      })
      .execute();
    await tx.append({
      event_type: 'message.ingest',
      ...auditedBy(ctx),
      session_id: item.session_id,
      policy_pack_version: pack.version,
      data: {
        content_ref: pointer,
        channel_id: item.channel_id,
        label: describeLabel(blobLabel),
        expires_at: expiresAt,
      },
    });
    return { content_ref: pointer, expires_at: expiresAt };
  }

  /**
   * Hands a blob to a transform capability, inside the transaction that records the access.
   * Refused — and the refusal recorded as a `policy.decision` naming its rule — when the
   * pointer is unknown, expired or purged, belongs to another session than the run's (a
   * pointer is not an authorisation), or carries a label the capability does not accept.
   */
  async dereferenceIn(
    tx: ChainTx,
    request: DereferenceRequest,
  ): Promise<Dereferenced | DereferenceRefusal> {
    const row = await tx.db
      .selectFrom('quarantine')
      .selectAll()
      .where('pointer', '=', request.content_ref)
      .executeTakeFirst();
    const now = this.#deps.clock.now().toISOString();
    const refusal = this.#refusalOf(row, request, now);
    if (refusal !== undefined || row === undefined) {
      const denied = refusal ?? { refused: 'no such content_ref', rule_id: RULE_UNKNOWN_POINTER };
      await tx.append({
        event_type: 'policy.decision',
        ...auditedBy(request.ctx),
        run_id: request.run.id,
        step_id: request.step_id,
        capability_id: request.capability_id,
        capability_version: request.capability_version,
        rule_id: denied.rule_id,
        data: {
          decision: 'deny',
          action: 'quarantine.dereference',
          // The pointer is the agent's own input; the chain may name it.
          content_ref: request.content_ref,
          reason: denied.refused,
        },
      });
      return denied;
    }
    const found = row;
    const blobLabel = labelOf(storedLabelSchema.parse(JSON.parse(found.label)));
    const blob = sealedBlobSchema.parse(
      JSON.parse(open(this.#deps.key.sealKey, found.pointer, found).toString('utf8')),
    );
    await tx.append({
      event_type: 'quarantine.access',
      ...auditedBy(request.ctx),
      run_id: request.run.id,
      step_id: request.step_id,
      capability_id: request.capability_id,
      capability_version: request.capability_version,
      data: {
        content_ref: found.pointer,
        justification: request.justification,
        declared_input_label: describeLabel(request.input_label),
        label: describeLabel(blobLabel),
      },
    });
    return {
      content_ref: found.pointer,
      content: blob.content,
      sender_id: blob.sender_id,
      channel_id: found.channel_id,
      label: blobLabel,
      taint: found.taint,
    };
  }

  /**
   * The person's own messages, read back for the Chat page's history, inside the transaction
   * that records it: one `quarantine.access` entry for the page, naming every pointer read.
   * Bound like a transform's read: a pointer of another session or channel is a bug in the
   * caller (it would mix another conversation in), so it throws instead of reading.
   */
  async readBackIn(tx: ChainTx, request: ReadBackRequest): Promise<Map<string, ReadBack>> {
    const out = new Map<string, ReadBack>();
    if (request.content_refs.length === 0) return out;
    const rows = await tx.db
      .selectFrom('quarantine')
      .selectAll()
      .where('pointer', 'in', [...request.content_refs])
      .execute();
    const now = this.#deps.clock.now().toISOString();
    const read: string[] = [];
    for (const row of rows) {
      if (row.session_id !== request.session_id || row.channel_id !== request.channel_id)
        throw new BugError('a read-back pointer belongs to another conversation');
      if (row.expires_at <= now) {
        out.set(row.pointer, { gone: 'expired' });
        continue;
      }
      const blob = sealedBlobSchema.parse(
        JSON.parse(open(this.#deps.key.sealKey, row.pointer, row).toString('utf8')),
      );
      out.set(row.pointer, { content: blob.content });
      read.push(row.pointer);
    }
    for (const ref of request.content_refs) if (!out.has(ref)) out.set(ref, { gone: 'purged' });
    if (read.length > 0)
      await tx.append({
        event_type: 'quarantine.access',
        ...auditedBy(request.ctx),
        session_id: request.session_id,
        capability_id: request.capability_id,
        data: {
          content_refs: read,
          justification: 'the person reads back their own messages',
        },
      });
    return out;
  }

  #refusalOf(
    row: Selectable<QuarantineTable> | undefined,
    request: DereferenceRequest,
    now: string,
  ): DereferenceRefusal | undefined {
    if (row === undefined)
      return {
        refused: 'no such content_ref (never stored, or purged)',
        rule_id: RULE_UNKNOWN_POINTER,
      };
    if (row.session_id !== request.run.session_id)
      return {
        refused: `the content_ref belongs to another session than run ${request.run.id}'s`,
        rule_id: RULE_SESSION_BINDING,
      };
    // Expired but not yet swept: the TTL holds to the instant, not to the next sweep.
    if (row.expires_at <= now) return { refused: 'the content_ref has expired', rule_id: RULE_TTL };
    const blobLabel = labelOf(storedLabelSchema.parse(JSON.parse(row.label)));
    if (!leq(blobLabel, join(request.input_label)))
      return {
        refused: `the content is labelled ${describeLabel(blobLabel)}, which ${request.capability_id} does not accept`,
        rule_id: RULE_INPUT_LABEL,
      };
    return undefined;
  }

  /** Deletes one session's blobs, or one sender's, with what was derived from them; audited. */
  async purge(input: unknown, ctx: ActorContext): Promise<{ purged: number }> {
    const parsed = quarantinePurgeSchema.safeParse(input);
    if (!parsed.success) throw invalidInput('quarantine purge', parsed.error.issues);
    const spec: QuarantinePurge = parsed.data;
    return this.#deps.chain.transact(async (tx) => {
      let query = tx.db.selectFrom('quarantine').select(['pointer', 'session_id']);
      query =
        spec.by === 'session'
          ? query.where('session_id', '=', spec.session_id)
          : query.where('sender_key', '=', this.#deps.key.senderKey(spec.sender_id));
      const rows = await query.execute();
      await this.#deleteIn(tx, rows, spec.by, ctx);
      return { purged: rows.length };
    });
  }

  /** Deletes every blob whose TTL has passed (with its outputs); one entry per session. */
  async sweepExpired(ctx: ActorContext): Promise<{ purged: number }> {
    return this.#deps.chain.transact(async (tx) => {
      const rows = await tx.db
        .selectFrom('quarantine')
        .select(['pointer', 'session_id'])
        .where('expires_at', '<=', this.#deps.clock.now().toISOString())
        .execute();
      await this.#deleteIn(tx, rows, 'ttl', ctx);
      return { purged: rows.length };
    });
  }

  async #deleteIn(
    tx: ChainTx,
    rows: readonly { pointer: string; session_id: string }[],
    reason: 'session' | 'sender' | 'ttl',
    ctx: ActorContext,
  ): Promise<void> {
    const bySession = new Map<string, string[]>();
    for (const r of rows)
      bySession.set(r.session_id, [...(bySession.get(r.session_id) ?? []), r.pointer]);
    for (const [sessionId, pointers] of bySession) {
      await tx.db.deleteFrom('quarantine').where('pointer', 'in', pointers).execute();
      // Outputs derived from purged content go with it: a purge is the person's erasure.
      const outputs = await tx.db
        .deleteFrom('transform_outputs')
        .where('source_ref', 'in', pointers)
        .executeTakeFirst();
      await tx.append({
        event_type: 'quarantine.purged',
        ...auditedBy(ctx),
        session_id: sessionId,
        data: { reason, content_refs: pointers, transform_outputs: Number(outputs.numDeletedRows) },
      });
    }
  }
}
