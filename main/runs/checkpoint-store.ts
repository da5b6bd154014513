import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/schema.ts';

/** Largest checkpoint accepted, as JSON text. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

export type Checkpoint = { id: number; segment: number; state: unknown; created_at: string };

export type CheckpointStoreDeps = {
  db: Db;
  clock: Clock;
  /**
   * Applied to every state before it is stored: the agent's conversation holds the LLM's
   * tool-call arguments and whatever else the worker kept, which may carry a secret.
   */
  redact: (state: unknown) => unknown;
};

/**
 * Durable, audited agent checkpoints: the state the next segment starts from. Each write
 * is a `checkpoint` chain entry in the same transaction.
 */
export class CheckpointStore {
  readonly #deps: CheckpointStoreDeps;

  constructor(deps: CheckpointStoreDeps) {
    this.#deps = deps;
  }

  /**
   * Writes a checkpoint and deletes the run's older ones beyond the newest `keep` (issue 17
   * #11: they were never pruned). Their chain entries stay: they record sizes, not states.
   */
  async saveIn(
    tx: ChainTx,
    input: {
      run_id: string;
      session_id: string;
      segment: number;
      state: unknown;
      actor: string;
      keep: number;
    },
  ): Promise<number> {
    // Redacted on write: a call resumed from here sees the redacted arguments, never the value.
    const text = JSON.stringify(this.#deps.redact(input.state ?? null) ?? null);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_CHECKPOINT_BYTES) {
      throw new AppError(
        'INVALID_INPUT',
        `checkpoint is ${bytes} bytes; the limit is ${MAX_CHECKPOINT_BYTES}`,
        {
          fields: [{ path: 'state', message: `larger than ${MAX_CHECKPOINT_BYTES} bytes` }],
        },
      );
    }
    const row = await tx.db
      .insertInto('checkpoints')
      .values({
        run_id: input.run_id,
        segment: input.segment,
        agent_state: text,
        created_at: this.#deps.clock.now().toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.db
      .deleteFrom('checkpoints')
      .where('run_id', '=', input.run_id)
      .where('id', 'not in', (eb) =>
        eb
          .selectFrom('checkpoints')
          .select('id')
          .where('run_id', '=', input.run_id)
          .orderBy('id', 'desc')
          .limit(input.keep),
      )
      .execute();
    await tx.append({
      event_type: 'checkpoint',
      actor: input.actor,
      session_id: input.session_id,
      run_id: input.run_id,
      data: { checkpoint_id: row.id, segment: input.segment, bytes },
    });
    return row.id;
  }

  /** The newest checkpoint of a run, or undefined before the first. */
  async latest(runId: string): Promise<Checkpoint | undefined> {
    const row = await this.#deps.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      id: row.id,
      segment: row.segment,
      state: JSON.parse(row.agent_state) as unknown,
      created_at: row.created_at,
    };
  }
}
