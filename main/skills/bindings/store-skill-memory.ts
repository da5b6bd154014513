import type { Clock } from '../../clock.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillMemory } from './skill-host-deps.ts';

/**
 * `ccos.memory` over the store's `memory` table. Values cross the isolate boundary as JSON
 * and are stored as JSON text. Items written by skills carry the source `skill:<id>` and
 * no weaker label than `internal.system` until governed memory refines labels.
 */
export class StoreSkillMemory implements SkillMemory {
  readonly #deps: { db: Db; clock: Clock };

  constructor(deps: { db: Db; clock: Clock }) {
    this.#deps = deps;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    const row = await this.#deps.db
      .selectFrom('memory')
      .select('value')
      .where('namespace', '=', namespace)
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined ? null : (JSON.parse(row.value) as unknown);
  }

  async put(namespace: string, key: string, value: unknown): Promise<void> {
    const row = {
      namespace,
      key,
      value: JSON.stringify(value),
      label: 'internal.system',
      source: `skill:${namespace}`,
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
          .doUpdateSet({ value: row.value, updated_at: row.updated_at }),
      )
      .execute();
  }
}
