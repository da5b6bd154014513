import type { ApprovalRequest } from '../../runs/approval-service.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';

/** The gate that asks after a setup call whose outcome the host does not know. */
export const RULE_CALL_OUTCOME_UNKNOWN = 'onboarding.call_outcome_unknown';

/**
 * The question after a restart finds an `api_call` that was sent and never recorded (like
 * the execute pipeline's CALL_OUTCOME_UNKNOWN): the call may have had its effect, so the
 * host does not repeat it on its own. Approving calls it again; denying stops setup.
 */
export function unknownCallApproval(
  record: OnboardingRecord,
  step: { id: string; operation: string },
  startedAt: string,
): ApprovalRequest {
  return {
    run_id: record.run_id ?? '',
    step_id: `onboarding:${step.id}`,
    kind: 'operation',
    rule_id: RULE_CALL_OUTCOME_UNKNOWN,
    scope: `${record.skill_id}:${step.id}`,
    justification: `Setting up ${record.skill_id}: the host stopped while it was calling ${step.operation} (step ${step.id}, sent ${startedAt}) and does not know whether the call had its effect — for example, an account may already be registered. Approve to call ${step.operation} again; deny to stop setup so you can check with the service first.`,
    permission_diff: [{ permission: 'execute', to: `${record.skill_id}__${step.operation}` }],
    request: {
      skill_id: record.skill_id,
      step: step.id,
      operation: step.operation,
      call_started_at: startedAt,
      outcome: 'unknown',
    },
  };
}
