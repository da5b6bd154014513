import type { Logger } from 'pino';
import type { LlmRetryPolicy } from '../../contracts/policy.ts';
import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { newId } from '../clock.ts';
import { isAppError } from '../errors.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { RunService } from '../runs/run-service.ts';

/** Used when a pack sets no `llm_retry`: about four minutes of backoff before giving up. */
export const DEFAULT_LLM_RETRY: LlmRetryPolicy = {
  max_consecutive_failures: 10,
  base_delay_ms: 1000,
  max_delay_ms: 15 * 60 * 1000,
};

/** A run's reason and a step's summary stay readable; the provider's words are cut here. */
const MAX_REASON_CHARS = 500;

/**
 * What a failed LLM call means for the run. Permanent failures (the key is refused, the
 * request is wrong, the replay script is off) stop the run at once: trying again cannot
 * help and would only spend retries. Transient ones (rate limits, 5xx, the network) wait
 * and try again, without spending the retries that count worker crashes.
 */
export type LlmFailureVerdict = {
  kind: 'permanent' | 'transient';
  code: string;
  /** `llm_auth: …`: the run's reason starts with the failure's name, then says what happened. */
  reason: string;
  retryAfterMs: number | undefined;
};

/** The verdict for an error a provider threw, or undefined when it is not an LLM failure to judge. */
export function classifyLlmFailure(e: unknown): LlmFailureVerdict | undefined {
  if (!isAppError(e)) return undefined;
  const details = (typeof e.details === 'object' && e.details !== null ? e.details : {}) as {
    status?: unknown;
    retry_after_ms?: unknown;
  };
  const status = typeof details.status === 'number' ? ` (${details.status})` : '';
  const retryAfterMs =
    typeof details.retry_after_ms === 'number' ? details.retry_after_ms : undefined;
  const judged = JUDGEMENTS[e.code];
  if (judged === undefined) return undefined;
  const [kind, name, what] = judged;
  const reason = `${name}: ${what}${status}: ${e.message}`.slice(0, MAX_REASON_CHARS);
  return { kind, code: e.code, reason, retryAfterMs };
}

/**
 * The codes judged here. LLM_ABORTED (the segment is being torn down) and anything else
 * keep their old path: the worker sees the error and the supervisor judges its exit.
 */
const JUDGEMENTS: Partial<Record<string, [LlmFailureVerdict['kind'], string, string]>> = {
  LLM_AUTH: ['permanent', 'llm_auth', 'the provider refused the API key'],
  LLM_REJECTED: ['permanent', 'llm_rejected', 'the provider refused the request'],
  LLM_REPLAY_EXHAUSTED: ['permanent', 'llm_replay', 'the replay transcript does not fit this run'],
  LLM_REPLAY_MISMATCH: ['permanent', 'llm_replay', 'the replay transcript does not fit this run'],
  LLM_RATE_LIMITED: ['transient', 'llm_rate_limited', 'the provider is rate limiting'],
  LLM_UNAVAILABLE: ['transient', 'llm_unavailable', 'the provider could not answer'],
  LLM_BAD_RESPONSE: ['transient', 'llm_bad_response', 'the provider answered nonsense'],
};

/** How long to wait before attempt `failures + 1`: the provider's word, else exponential. */
export function backoffMs(
  policy: LlmRetryPolicy,
  failures: number,
  retryAfterMs: number | undefined,
): number {
  const exponential = policy.base_delay_ms * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(retryAfterMs ?? exponential, policy.max_delay_ms);
}

/** When and why a run waits after a transient LLM failure. */
export type LlmBackoff = { until: Date; reason: string };

export type RecordLlmFailureDeps = {
  runs: RunService;
  redactor: Redactor;
  logger: Logger;
  /** Provider id, e.g. `openai_compatible:gpt-4o`, recorded as the entry's capability. */
  providerId: string;
  actor: string;
  policy: LlmRetryPolicy;
  segment: number;
  started: Date;
  now: Date;
};

/**
 * Records a failed LLM call — a step row, an `llm.call` entry with `outcome: failed`, a warn
 * line — and applies the verdict: a permanent failure fails the run here, in the same
 * transaction; a transient one returns when the run may try again, or fails the run once
 * `max_consecutive_failures` calls in a row have failed. Everything is redacted: a provider
 * may echo the key or the prompt in its error.
 */
export async function recordLlmFailureIn(
  tx: ChainTx,
  deps: RecordLlmFailureDeps,
  run: Run,
  verdict: LlmFailureVerdict,
): Promise<LlmBackoff | undefined> {
  const reason = deps.redactor.redactString(verdict.reason);
  const stepId = newId('stp');
  await tx.db
    .insertInto('steps')
    .values({
      run_id: run.id,
      step_id: stepId,
      segment: deps.segment,
      kind: 'llm',
      summary: reason,
      tokens: 0,
      started_at: deps.started.toISOString(),
      ended_at: deps.now.toISOString(),
      outcome: `error:${verdict.code}`,
    })
    .execute();
  await tx.append({
    event_type: 'llm.call',
    actor: deps.actor,
    session_id: run.session_id,
    run_id: run.id,
    step_id: stepId,
    capability_id: deps.providerId,
    data: {
      outcome: 'failed',
      segment: deps.segment,
      code: verdict.code,
      failure: verdict.kind,
      reason,
      ...(verdict.retryAfterMs === undefined ? {} : { retry_after_ms: verdict.retryAfterMs }),
    },
  });
  const failures = await consecutiveFailuresIn(tx, run.id, deps.policy.max_consecutive_failures);
  const giveUp = verdict.kind === 'permanent' || failures >= deps.policy.max_consecutive_failures;
  const log = { run_id: run.id, step_id: stepId, code: verdict.code, failures };
  if (giveUp) {
    const final =
      verdict.kind === 'permanent'
        ? reason
        : `${reason}; gave up after ${failures} failures in a row`;
    deps.logger.warn({ ...log, reason: final }, 'LLM call failed: the run stops');
    await deps.runs.transitionIn(tx, run.id, 'failed', { actor: deps.actor, reason: final });
    return undefined;
  }
  const waitMs = backoffMs(deps.policy, failures, verdict.retryAfterMs);
  const until = new Date(deps.now.getTime() + waitMs);
  deps.logger.warn(
    { ...log, reason, wait_ms: waitMs },
    'LLM call failed: the run waits and retries',
  );
  return {
    until,
    reason:
      `${reason}; failure ${failures} of ${deps.policy.max_consecutive_failures}, ` +
      `trying again at ${until.toISOString()}`,
  };
}

/** LLM calls of this run that failed since its last answer, newest first, up to `cap`. */
async function consecutiveFailuresIn(tx: ChainTx, runId: string, cap: number): Promise<number> {
  const rows = await tx.db
    .selectFrom('chain')
    .select('data')
    .where('run_id', '=', runId)
    .where('event_type', '=', 'llm.call')
    .orderBy('seq', 'desc')
    .limit(cap)
    .execute();
  let n = 0;
  for (const row of rows) {
    const data = JSON.parse(row.data) as { outcome?: unknown };
    if (data.outcome !== 'failed') break;
    n += 1;
  }
  return n;
}
