import type { Kysely } from 'kysely';
import * as m0001 from './0001-core-tables.ts';
import * as m0002 from './0002-idempotency-keys.ts';

export type Migration = {
  /** Zero-padded number and kebab name, e.g. `0001-core-tables`. Append-only once landed. */
  name: string;
  up: (db: Kysely<unknown>) => Promise<void>;
};

/**
 * Registered statically (not read from a folder at run time) so a packaged app finds them.
 * Order is the array's order; names must increase.
 */
export const MIGRATIONS: readonly Migration[] = [
  { name: '0001-core-tables', up: m0001.up },
  { name: '0002-idempotency-keys', up: m0002.up },
];
