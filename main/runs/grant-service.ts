import type { Approval } from '../../contracts/approvals.ts';
import type { GrantRequest } from '../../contracts/grant-request.ts';
import type { Grant, GrantBasis } from '../../contracts/grants.ts';
import type { ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db } from '../store/schema.ts';
import { expireRunGrantsIn, revokeGrantIn } from './grant-ending.ts';
import { checkGrantRequest, issueGrantIn } from './grant-issuing.ts';
import { listGrants, readGrant, type ListGrantsQuery } from './grant-queries.ts';
import { useGrantIn, type GrantUse } from './grant-use.ts';
import type { RunService } from './run-service.ts';

export type { GrantUse } from './grant-use.ts';
export type { ListGrantsQuery } from './grant-queries.ts';

export type GrantServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  policies: PolicyPacks;
};

/**
 * Standing approvals (issue 22). A person deciding an operation approval may approve it as
 * a grant: later calls with the same basis (kind, operation, skill version and digest,
 * permission diff, taint gate) in the grant's scope go through without asking, until it is
 * used up, expires (the injected clock) or is revoked. Each use is spent by one conditional
 * UPDATE in the transaction of the call it lets through, so concurrent calls cannot spend a
 * grant of N uses more than N times. Issuing, using, ending and listing each have a file.
 */
export class GrantService {
  readonly #deps: GrantServiceDeps;

  constructor(deps: GrantServiceDeps) {
    this.#deps = deps;
  }

  /** See `checkGrantRequest`. */
  check(approval: Approval, request: GrantRequest, ctx: ActorContext): Promise<void> {
    return checkGrantRequest(this.#deps, approval, request, ctx);
  }

  /** Makes the grant of a just-approved approval, in the decision's transaction. */
  issueIn(
    tx: ChainTx,
    approval: Approval,
    request: GrantRequest,
    ctx: ActorContext,
  ): Promise<Grant> {
    return issueGrantIn(tx, this.#deps, approval, request, ctx);
  }

  /** Ends a run's own grants when the run ends (see `expireRunGrantsIn`). */
  registerRunEndExpiry(): Disposable {
    return this.#deps.runs.registerRunEndHook((tx, run) =>
      expireRunGrantsIn(tx, run.id, this.#deps.clock.now()),
    );
  }

  /** See `useGrantIn`. */
  useIn(tx: ChainTx, basis: GrantBasis, use: GrantUse): Promise<Grant | undefined> {
    return useGrantIn(tx, this.#deps, basis, use);
  }

  get(id: string): Promise<Grant> {
    return readGrant(this.#deps.db, id, this.#deps.clock.now());
  }

  /** Grants, newest first; by state as of now, by run (made by it) or by schedule. */
  list(query: ListGrantsQuery = {}): Promise<Grant[]> {
    return listGrants(this.#deps.db, query, this.#deps.clock.now());
  }

  /** See `revokeGrantIn`. */
  revoke(id: string, ctx: ActorContext): Promise<Grant> {
    return this.#deps.chain.transact((tx) => revokeGrantIn(tx, id, this.#deps.clock.now(), ctx));
  }
}
