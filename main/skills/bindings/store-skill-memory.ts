import type { Kysely } from 'kysely';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../store/schema.ts';
import { skillAuditEntry } from './skill-audit.ts';
import { skillMemoryNamespace, skillMemorySource } from '../../runs/skill-memory-namespace.ts';
import type { SkillAuditEvent, SkillMemory, SkillRef } from './skill-host-deps.ts';

/**
 * A memory item as skills and their onboarding store it. `namespace` is the one the skill
 * declared; it is stored under the skill's own prefix (`skill:<id>:<namespace>`), so a skill
 * declaring a namespace another skill uses gets an empty one, never the other's data.
 */
export type SkillMemoryItem = {
  namespace: string;
  key: string;
  value: unknown;
  run_id: string | null;
  step_id: string | null;
};

/** Reads one item of the skill's own (null when absent), through `db` or a transaction of it. */
export async function readSkillMemory(
  db: Kysely<Database>,
  owner: SkillRef,
  namespace: string,
  key: string,
): Promise<unknown> {
  const row = await db
    .selectFrom('memory')
    .select('value')
    .where('namespace', '=', skillMemoryNamespace(owner.skill_id, namespace))
    .where('key', '=', key)
    .executeTakeFirst();
  return row === undefined ? null : (JSON.parse(row.value) as unknown);
}

/**
 * Writes one item of the skill's own through `db` or a transaction of it; the caller records
 * it on the chain in the same transaction. Each item names the skill and version that last
 * wrote it (`skill:<id>@<version>`) and carries no weaker label than `internal.system` until
 * governed memory refines labels.
 */
export async function writeSkillMemory(
  db: Kysely<Database>,
  owner: SkillRef,
  item: SkillMemoryItem,
  now: Date,
): Promise<void> {
  const row = {
    namespace: skillMemoryNamespace(owner.skill_id, item.namespace),
    key: item.key,
    value: JSON.stringify(item.value),
    label: 'internal.system',
    source: skillMemorySource(owner.skill_id, owner.version),
    run_id: item.run_id,
    step_id: item.step_id,
    expires_at: null,
    updated_at: now.toISOString(),
  };
  await db
    .insertInto('memory')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['namespace', 'key']).doUpdateSet({
        value: row.value,
        source: row.source,
        run_id: row.run_id,
        step_id: row.step_id,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/**
 * `ccos.memory` over the store's `memory` table. Values cross the isolate boundary as JSON
 * and are stored as JSON text; each write commits with its `memory.write` chain entry.
 */
export class StoreSkillMemory implements SkillMemory {
  readonly #deps: { db: Db; chain: CausalChain; clock: Clock };

  constructor(deps: { db: Db; chain: CausalChain; clock: Clock }) {
    this.#deps = deps;
  }

  get(owner: SkillRef, namespace: string, key: string): Promise<unknown> {
    return readSkillMemory(this.#deps.db, owner, namespace, key);
  }

  /** Writes the item and its `memory.write` entry in one transaction: both or neither. */
  async put(
    owner: SkillRef,
    namespace: string,
    key: string,
    value: unknown,
    audit: SkillAuditEvent,
  ): Promise<void> {
    const { envelope } = audit.call;
    const entry = skillAuditEntry(audit);
    const now = this.#deps.clock.now();
    await this.#deps.chain.transact(async (tx) => {
      await writeSkillMemory(
        tx.db,
        owner,
        { namespace, key, value, run_id: envelope.run_id, step_id: envelope.step_id },
        now,
      );
      if (entry !== undefined) await tx.append(entry);
    });
  }
}
