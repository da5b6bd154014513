import type { OnboardingStep, SkillOnboarding } from '../../../contracts/skills.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';

/** What `GET /v1/skills` shows: the state, the step, and what it waits for or why it stopped. */
export function viewOf(
  record: OnboardingRecord | undefined,
  steps: readonly OnboardingStep[],
): SkillOnboarding {
  if (record === undefined || record.run_id === null)
    return { state: 'NEEDS_SETUP', step: 0, waiting_for: 'setup not started' };
  const step = steps[record.step];
  const view = { state: record.state, step: record.step };
  if (record.state === 'OPERATIONAL') return view;
  if (record.reason !== null) return { ...view, waiting_for: record.reason };
  if (record.pending_approval_id !== null)
    return {
      ...view,
      waiting_for: `approval ${record.pending_approval_id} (${
        step?.kind === 'human_action'
          ? 'human action'
          : record.pending_secret === null
            ? `outcome of ${step?.kind === 'api_call' ? step.operation : 'a call'} unknown`
            : `secret ${record.pending_secret.name}`
      })`,
    };
  if (step?.kind === 'wait_for')
    return { ...view, waiting_for: `polling ${step.operation} every ${step.every_s} s` };
  return view;
}
