import path from 'node:path';
import { Kysely } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import { AppError } from '../errors.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database, Db } from './schema.ts';
import { createSqliteDialect } from './sqlite-dialect.ts';
import { ensureOwnerOnlyFile, secureDataDir, tightenIfPresent } from './secure-data-dir.ts';

export const DATABASE_FILE = 'ccos.sqlite';

/**
 * Pragmas applied to every connection.
 * - WAL: readers never block the writer, and a crash never corrupts committed pages.
 * - synchronous=FULL: in WAL mode, NORMAL survives a process crash but may drop the last
 *   commits on power loss; a run transition the UI has shown must survive both, so every
 *   commit is fsynced. Its cost is measured in `npm run bench -- store`.
 * - foreign_keys: rows never point at missing runs or sessions.
 * - busy_timeout: another process (a CLI reading the file) waits instead of failing.
 * - secure_delete: deleted and overwritten content is zeroed, not left in free pages, so a
 *   purge (payloads) or a re-hash (idempotency keys) really removes it from the file.
 */
export const STORE_PRAGMAS = [
  'pragma journal_mode = wal',
  'pragma synchronous = full',
  'pragma foreign_keys = on',
  'pragma busy_timeout = 5000',
  'pragma secure_delete = on',
] as const;

export type Store = {
  db: Db;
  file: string;
  /** Names of migrations this open applied (empty when the schema was current). */
  applied: readonly string[];
  /** Statements run on the connection since it opened (the benchmarks' cost per operation). */
  statementCount: () => number;
  close: () => Promise<void>;
};

export type OpenStoreOptions = {
  dataDir: string;
  /** Migrations to apply; tests pass a prefix or a failing list. Defaults to all. */
  migrations?: readonly { name: string; up: (db: Kysely<unknown>) => Promise<void> }[];
};

/**
 * Opens (creating if needed) the database in `dataDir` and brings its schema up to date.
 * Takes the data dir's single-host lock first (`lockDataDir`): while the store is open, no
 * other host may open it — a second one fails with CONFLICT — and `close` releases it.
 * The data dir is owner-only (0700; one others can write is refused with DATA_DIR_UNSAFE)
 * and so are the database files (0600).
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  await secureDataDir(options.dataDir);
  const lock = await lockDataDir(options.dataDir);
  const file = path.join(options.dataDir, DATABASE_FILE);
  try {
    await ensureOwnerOnlyFile(file);
    for (const suffix of ['-wal', '-shm', '-journal']) await tightenIfPresent(`${file}${suffix}`);
  } catch (e) {
    await lock.release();
    throw e;
  }
  const counter = { statements: 0 };
  const db = new Kysely<Database>({
    dialect: createSqliteDialect({ filename: file, onOpen: STORE_PRAGMAS, counter }),
  });
  const close = async (): Promise<void> => {
    try {
      await db.destroy();
    } finally {
      await lock.release();
    }
  };
  try {
    const applied = await migrate(db, options.migrations ?? MIGRATIONS);
    return { db, file, applied, statementCount: () => counter.statements, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function migrate(
  db: Kysely<Database>,
  migrations: NonNullable<OpenStoreOptions['migrations']>,
): Promise<string[]> {
  const provider: MigrationProvider = {
    getMigrations: () =>
      Promise.resolve(Object.fromEntries(migrations.map((m) => [m.name, { up: m.up }]))),
  };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
    // Work done in parallel reserves number ranges (migrations/index.ts), so a migration may
    // land after one with a higher number has run somewhere: it must still run, not stop
    // start-up as "corrupted migrations".
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = error instanceof Error ? error.message : JSON.stringify(error);
    throw new AppError(
      'MIGRATION_FAILED',
      failed === undefined
        ? `database schema could not be brought up to date: ${cause}`
        : `migration ${failed} failed: ${cause}. Nothing of this batch was applied; the database is as it was before start-up.`,
      { migration: failed ?? null },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
