import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../main/store/open-store.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';

const T = '2026-01-01T00:00:00.000Z';

/** Migration 0130: the database itself refuses a grant used past its uses or tied to nothing. */
describe('0130-grants', () => {
  let dataDir: string;
  let store: Store;
  beforeEach(async () => {
    dataDir = await makeTempDir('ccos-0130-');
    store = await openStore({ dataDir });
    await sql`insert into sessions (id, origin, owner, state, created_at)
      values ('ses_1', 'api', 'admin', 'active', ${T})`.execute(store.db);
    await sql`insert into runs (id, session_id, goal, state, budget, usage, policy_pack,
        created_by, created_at, updated_at)
      values ('run_1', 'ses_1', 'g', 'running', '{}', '{}', 'default', 'admin', ${T}, ${T})`.execute(
      store.db,
    );
    await sql`insert into approvals (id, run_id, step_id, kind, scope, justification,
        permission_diff, request, state, created_at)
      values ('apr_1', 'run_1', 'step_1', 'operation', 's__o', 'j', '[]', '{}', 'approved', ${T})`.execute(
      store.db,
    );
  });
  afterEach(async () => {
    await store.close();
    await removeTempDir(dataDir);
  });

  const insert = (over: { approval?: string; run?: string; max?: number | null; uses?: number }) =>
    sql`insert into grants (id, approval_id, kind, scope, run_id, grant_key, tool, skill_id,
        skill_version, permission_diff, taint_gated, max_uses, uses, expires_at, created_by, created_at)
      values (${`grt_${Math.random()}`}, ${over.approval ?? 'apr_1'}, 'operation', 'run',
        ${over.run ?? 'run_1'}, 'k', 's__o', 's', '1.0.0', '[]', 0, ${over.max ?? null},
        ${over.uses ?? 0}, ${T}, 'admin', ${T})`.execute(store.db);

  it('adds grant_basis to approvals, empty for approvals made before it', async () => {
    const { rows } = await sql<{ grant_basis: string | null }>`
      select grant_basis from approvals`.execute(store.db);
    expect(rows).toEqual([{ grant_basis: null }]);
  });

  it('refuses more uses than the grant carries, a second grant of one approval, and unknown runs', async () => {
    await expect(insert({ max: 2, uses: 3 })).rejects.toThrow(/CHECK/);
    await insert({ max: 2, uses: 2 });
    await expect(insert({})).rejects.toThrow(/UNIQUE/);
    await expect(insert({ approval: 'apr_missing' })).rejects.toThrow(/FOREIGN KEY/);
  });
});
