import type { Run } from '../../contracts/runs.ts';
import type { StartedHost } from '../../main/host.ts';
import { memoryPolicyOf } from '../../main/memory/memory-policy.ts';
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { segmentQuotasOf } from '../../main/runs/segment-quotas.ts';
import { DEFAULT_LLM_RETRY } from '../../main/supervisor/llm-failure.ts';
import { RunSegment } from '../../main/supervisor/run-segment.ts';

/** How long a hand-made segment may last: far longer than any test or bench needs. */
const SEGMENT_MAX_MS = 10 * 60 * 1000;

/**
 * Segment 0 of a `running` run, answered by a started host's real services as the supervisor
 * wires them (the default pack's quotas, memory policy and retry), with no worker process and
 * no LLM: a test or bench calls its handlers (or serves them over a channel) itself.
 */
export function hostRunSegment(s: StartedHost, run: Run, maxSteps: number): RunSegment {
  return new RunSegment(
    {
      runs: s.runs,
      chain: s.chain,
      clock: { now: () => new Date() },
      meter: s.meter,
      pipeline: s.pipeline,
      checkpoints: s.checkpoints,
      payloads: s.payloads,
      registry: s.skillRegistry,
      redactor: s.redactor,
      labels: { db: s.store.db, policies: s.policies, llmLocation: 'local' },
      memory: s.memory,
      approvals: s.approvals,
      llm: {
        id: 'none',
        complete: () => Promise.reject(new Error('a hand-made segment makes no LLM calls')),
      },
      logger: s.logger,
    },
    run,
    {
      index: 0,
      max_steps: maxSteps,
      max_ms: SEGMENT_MAX_MS,
      quotas: segmentQuotasOf(DEFAULT_POLICY_PACK),
      memory: memoryPolicyOf(DEFAULT_POLICY_PACK),
      llm_retry: DEFAULT_LLM_RETRY,
    },
    new AbortController().signal,
  );
}
