import { createHash } from 'node:crypto';

/** The step id of the tool call the LLM named `callId` in run `runId`; the same across segments. */
export function callStepId(runId: string, callId: string): string {
  const digest = createHash('sha256').update(`${runId}\n${callId}`).digest('hex');
  return `call_${digest.slice(0, 32)}`;
}
