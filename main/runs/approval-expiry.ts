import type { Logger } from 'pino';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { ApprovalService } from './approval-service.ts';

export const APPROVAL_EXPIRY_ACTOR = 'host:approval-timeout';

export type ApprovalExpiryDeps = {
  approvals: ApprovalService;
  chain: CausalChain;
  clock: Clock;
  logger: Logger;
};

/**
 * Expires approvals whose policy pack's timeout has passed: one timer for the earliest
 * `expires_at` (not one per approval), re-armed when an approval is requested. At start it
 * expires what came due while the host was down. An expiry is a refusal and resumes the run
 * (`ApprovalService.expireDue`).
 */
export class ApprovalExpiry implements Disposable {
  readonly #deps: ApprovalExpiryDeps;
  #timer: NodeJS.Timeout | undefined;
  #subscription: Disposable | undefined;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  constructor(deps: ApprovalExpiryDeps) {
    this.#deps = deps;
  }

  start(): this {
    this.#subscription = this.#deps.chain.subscribe((entries: readonly ChainEntry[]) => {
      if (entries.some((e) => e.event_type === 'approval.request')) this.#tick();
    });
    this.#tick();
    return this;
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#subscription?.dispose();
    await this.#running;
  }

  /** Expires what is due, then sleeps until the next expiry; passes never overlap. */
  #tick(): void {
    this.#running = this.#running
      .then(async () => {
        if (this.#stopped) return;
        await this.#deps.approvals.expireDue({ actor: APPROVAL_EXPIRY_ACTOR });
        const next = await this.#deps.approvals.nextExpiry();
        clearTimeout(this.#timer);
        this.#timer = undefined;
        if (next === null) return;
        // A few milliseconds late rather than early: woken early, nothing would be due yet.
        const delay = Math.max(0, next.getTime() - this.#deps.clock.now().getTime()) + 5;
        this.#timer = setTimeout(() => {
          this.#tick();
        }, delay);
        this.#timer.unref();
      })
      .catch((err: unknown) => {
        this.#deps.logger.error({ err }, 'could not expire approvals');
      });
  }
}
