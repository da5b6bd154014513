import type { RunDetail } from '../../../contracts/api.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { RunService } from '../../runs/run-service.ts';

const MAX_ENTRIES = 1_000;

/**
 * Run details as `GET /v1/runs/{id}` serves them, read once per change instead of once
 * per request (a UI polls them). A detail is kept only while no transaction has committed
 * since it was read: every write to runs, goals and approvals goes through
 * `CausalChain.transact`, so the commit counter is a complete invalidation signal.
 */
export class RunDetailCache {
  readonly #deps: { chain: CausalChain; runs: RunService; approvals: ApprovalService };
  #entries = new Map<string, RunDetail>();
  #generation = -1;

  constructor(deps: { chain: CausalChain; runs: RunService; approvals: ApprovalService }) {
    this.#deps = deps;
  }

  async get(runId: string): Promise<RunDetail> {
    this.#dropIfStale();
    const cached = this.#entries.get(runId);
    if (cached !== undefined) return cached;
    const readAt = this.#deps.chain.commits;
    const run = await this.#deps.runs.get(runId);
    const [goals, pending, lastFailure] = await Promise.all([
      this.#deps.runs.goals(run.id),
      this.#deps.approvals.list({ run_id: run.id, state: 'pending' }),
      this.#deps.runs.lastFailure(run.id),
    ]);
    const detail: RunDetail = {
      run,
      goals,
      pending_approvals: pending,
      last_failure: lastFailure,
    };
    // A commit landed while reading: the parts may disagree, so serve it but do not keep it.
    if (this.#deps.chain.commits === readAt) {
      this.#dropIfStale();
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(runId, detail);
    }
    return detail;
  }

  #dropIfStale(): void {
    if (this.#generation !== this.#deps.chain.commits) {
      this.#entries = new Map();
      this.#generation = this.#deps.chain.commits;
    }
  }
}
