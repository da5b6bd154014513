import type { CausalChain } from '../../chain/causal-chain.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';

/** How a wait for a person's decision ended. */
export type DecisionWait = 'decided' | 'timed_out' | 'cancelled';

/**
 * Waits, at most `ms`, for approval `id` to be decided (or to expire), hearing the chain's
 * `approval.decision` entries: no polling, and a decision made in the UI, the CLI or by the
 * expiry timer ends the wait alike. An abort of `signal` (the client's
 * `notifications/cancelled`) ends it at once; the approval itself stays for the person.
 */
export async function waitForDecision(
  deps: { chain: CausalChain; approvals: ApprovalService },
  id: string,
  ms: number,
  signal: AbortSignal,
): Promise<DecisionWait> {
  if (signal.aborted) return 'cancelled';
  let settle: (how: DecisionWait) => void = () => undefined;
  const ended = new Promise<DecisionWait>((resolve) => {
    settle = resolve;
  });
  const subscription = deps.chain.subscribe((entries) => {
    if (entries.some((e) => e.event_type === 'approval.decision' && e.data.approval_id === id))
      settle('decided');
  });
  const onAbort = (): void => {
    settle('cancelled');
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    settle('timed_out');
  }, ms);
  try {
    // Decided before the subscription started: nothing would be heard.
    if ((await deps.approvals.get(id)).state !== 'pending') return 'decided';
    return await ended;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    void subscription.dispose();
  }
}
