import { sql, type Kysely } from 'kysely';

/**
 * A quarantined blob's integrity (issue 23): `trusted` for the local chat, whose sender is the
 * person, `untrusted` for anything from outside. A transform's output carries its source's
 * taint, so a summary of the person's own message does not put the agent's reply behind the
 * taint gate. Not secret, so outside the sealed box; every older blob is `untrusted`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table quarantine add column taint text not null default 'untrusted'
    check (taint in ('trusted', 'untrusted'))`.execute(db);
}
