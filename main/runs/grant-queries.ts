import type { Grant, GrantState } from '../../contracts/grants.ts';
import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
import type { Database } from '../store/schema.ts';
import { grantFromRow } from './grant-rows.ts';

export type ListGrantsQuery = {
  state?: GrantState;
  run_id?: string;
  schedule_id?: string;
  limit?: number;
};

/** A grant by id, its state as of `now`; NOT_FOUND if there is none. */
export async function readGrant(db: Kysely<Database>, id: string, now: Date): Promise<Grant> {
  const row = await db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new AppError('NOT_FOUND', `grant ${id} not found`);
  return grantFromRow(row, now);
}

/** Grants, newest first; by state as of `now`, by run (made by it) or by schedule. */
export async function listGrants(
  db: Kysely<Database>,
  query: ListGrantsQuery,
  now: Date,
): Promise<Grant[]> {
  const at = now.toISOString();
  let q = db
    .selectFrom('grants')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(query.limit ?? 100, 1000));
  if (query.run_id !== undefined) q = q.where('run_id', '=', query.run_id);
  if (query.schedule_id !== undefined) q = q.where('schedule_id', '=', query.schedule_id);
  switch (query.state) {
    case undefined:
      break;
    case 'revoked':
      q = q.where('revoked_at', 'is not', null);
      break;
    case 'expired':
      q = q.where('revoked_at', 'is', null).where('expires_at', '<=', at);
      break;
    case 'used_up':
      q = q
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .where('max_uses', 'is not', null)
        .where((eb) => eb('uses', '>=', eb.ref('max_uses')));
      break;
    case 'active':
      q = q
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]));
      break;
  }
  return (await q.execute()).map((r) => grantFromRow(r, now));
}
