import type { Db } from '../store/schema.ts';

/** A namespace of the person's own: no `skill:` or `run:` prefix (those hold skills' and agents' items). */
const SHARED_NAMESPACE = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Reads an item of a shared namespace (e.g. the person's `profile`), for autofill. A skill's
 * namespaces are stored apart (`skill:<id>:<ns>`), so a skill that declares `profile` writes
 * its own and cannot plant values that autofill would hand to other skills.
 */
export async function readSharedMemory(db: Db, namespace: string, key: string): Promise<unknown> {
  if (!SHARED_NAMESPACE.test(namespace)) return null;
  const row = await db
    .selectFrom('memory')
    .select('value')
    .where('namespace', '=', namespace)
    .where('key', '=', key)
    .executeTakeFirst();
  return row === undefined ? null : (JSON.parse(row.value) as unknown);
}
