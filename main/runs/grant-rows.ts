import {
  grantBasisSchema,
  grantSchema,
  type Grant,
  type GrantBasis,
  type GrantState,
} from '../../contracts/grants.ts';
import type { GrantsTable } from '../store/schema.ts';

/** A grant's state as of `now`: revoked before expired before used up. */
export function grantStateAt(row: GrantsTable, now: Date): GrantState {
  if (row.revoked_at !== null) return 'revoked';
  if (Date.parse(row.expires_at) <= now.getTime()) return 'expired';
  if (row.max_uses !== null && row.uses >= row.max_uses) return 'used_up';
  return 'active';
}

/** A stored grant as the API shows it (its JSON column parsed: the database is an edge). */
export function grantFromRow(row: GrantsTable, now: Date): Grant {
  const shown: Omit<GrantsTable, 'grant_key'> & { grant_key?: unknown } = { ...row };
  // The key is internal, like an approval's match key.
  delete shown.grant_key;
  return grantSchema.parse({
    ...shown,
    permission_diff: JSON.parse(row.permission_diff) as unknown,
    taint_gated: row.taint_gated === 1,
    state: grantStateAt(row, now),
  });
}

/** An approval's `grant_basis` column, or undefined when it has none (or it does not parse). */
export function basisFromColumn(text: string | null): GrantBasis | undefined {
  if (text === null) return undefined;
  const parsed = grantBasisSchema.safeParse(JSON.parse(text) as unknown);
  return parsed.success ? parsed.data : undefined;
}
