import type { Approval } from '../../contracts/approvals.ts';

/** Why a decided operation approval does not let `tool` run, or undefined when it does. */
export function refusalOf(decided: Approval, tool: string): string | undefined {
  const why = decided.reason === null ? '' : `: ${decided.reason}`;
  if (decided.state === 'denied') return `a person refused ${tool}${why}`;
  if (decided.state === 'expired')
    return `the approval for ${tool} expired without a decision${why}`;
  // A narrowed scope is not consent to the call as asked: the pipeline cannot tell
  // whether the call fits the person's words, so it fails closed and says what was granted.
  if (decided.state === 'modified' && decided.scope !== tool)
    return `a person granted only "${decided.scope}" instead of ${tool}${why}`;
  return undefined;
}
