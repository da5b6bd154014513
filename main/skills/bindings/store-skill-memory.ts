import type { Clock } from '../../clock.ts';
import { skillMemoryNamespace, skillMemorySource } from '../../runs/skill-memory-namespace.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillMemory, SkillRef } from './skill-host-deps.ts';

/**
 * `ccos.memory` over the store's `memory` table. Each skill's namespaces are stored under its
 * own prefix (`skill:<id>:<namespace>`), so a skill declaring a namespace another skill uses
 * gets an empty one, never the other's data; each row records the skill and version that
 * last wrote it. Values cross the isolate boundary as JSON and are stored as JSON text, with
 * no weaker label than `internal.system` until governed memory refines labels.
 */
export class StoreSkillMemory implements SkillMemory {
  readonly #deps: { db: Db; clock: Clock };

  constructor(deps: { db: Db; clock: Clock }) {
    this.#deps = deps;
  }

  async get(owner: SkillRef, namespace: string, key: string): Promise<unknown> {
    const row = await this.#deps.db
      .selectFrom('memory')
      .select('value')
      .where('namespace', '=', skillMemoryNamespace(owner.skill_id, namespace))
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined ? null : (JSON.parse(row.value) as unknown);
  }

  async put(owner: SkillRef, namespace: string, key: string, value: unknown): Promise<void> {
    const row = {
      namespace: skillMemoryNamespace(owner.skill_id, namespace),
      key,
      value: JSON.stringify(value),
      label: 'internal.system',
      source: skillMemorySource(owner.skill_id, owner.version),
      run_id: null,
      step_id: null,
      expires_at: null,
      updated_at: this.#deps.clock.now().toISOString(),
    };
    await this.#deps.db
      .insertInto('memory')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['namespace', 'key'])
          .doUpdateSet({ value: row.value, source: row.source, updated_at: row.updated_at }),
      )
      .execute();
  }
}
