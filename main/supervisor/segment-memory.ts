import { sql } from 'kysely';
import type { AppError } from '../errors.ts';
import { runMemoryNamespace } from '../runs/completion-check.ts';
import { refuseQuotaIn } from './quota-refusal.ts';
import { requireRunningIn, type SegmentContext } from './segment-context.ts';

/** The run-scoped memory handlers of one segment, within the pack's memory quotas. */
export class SegmentMemory {
  readonly #ctx: SegmentContext;
  /** Memory writes this segment made, against its quota. */
  #memoryPuts = 0;

  constructor(ctx: SegmentContext) {
    this.#ctx = ctx;
  }

  async get(key: string): Promise<unknown> {
    const row = await this.#ctx.deps.chain.transact((tx) =>
      tx.db
        .selectFrom('memory')
        .select('value')
        .where('namespace', '=', runMemoryNamespace(this.#ctx.run.id))
        .where('key', '=', key)
        .executeTakeFirst(),
    );
    return row === undefined ? null : (JSON.parse(row.value) as unknown);
  }

  async put(key: string, value: unknown): Promise<void> {
    const { deps, grant, actor } = this.#ctx;
    const error = await deps.chain.transact(async (tx): Promise<AppError | undefined> => {
      const run = await requireRunningIn(this.#ctx, tx);
      const namespace = runMemoryNamespace(run.id);
      const text = JSON.stringify(deps.redactor.redactValue(value) ?? null);
      const { max_memory_puts: puts, run_memory_max_bytes: maxBytes } = grant.quotas;
      if (this.#memoryPuts >= puts) {
        return refuseQuotaIn(tx, run, 'memory_puts', { limit: puts, used: this.#memoryPuts });
      }
      // The whole namespace after this write: every other key's size plus this one's.
      const others = await tx.db
        .selectFrom('memory')
        .select(
          sql<number>`coalesce(sum(length(cast(key as blob)) + length(cast(value as blob))), 0)`.as(
            'bytes',
          ),
        )
        .where('namespace', '=', namespace)
        .where('key', '!=', key)
        .executeTakeFirstOrThrow();
      const bytes = Buffer.byteLength(key) + Buffer.byteLength(text);
      if (others.bytes + bytes > maxBytes) {
        return refuseQuotaIn(tx, run, 'memory_bytes', {
          limit: maxBytes,
          used: others.bytes + bytes,
        });
      }
      this.#memoryPuts += 1;
      const now = deps.clock.now().toISOString();
      await tx.db
        .insertInto('memory')
        .values({
          namespace,
          key,
          value: text,
          label: 'internal.system',
          source: actor,
          run_id: run.id,
          step_id: null,
          expires_at: null,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['namespace', 'key']).doUpdateSet({ value: text, updated_at: now }),
        )
        .execute();
      await tx.append({
        event_type: 'memory.write',
        actor,
        session_id: run.session_id,
        run_id: run.id,
        data: { namespace, key, bytes: Buffer.byteLength(text) },
      });
      return undefined;
    });
    if (error !== undefined) throw error;
  }
}
