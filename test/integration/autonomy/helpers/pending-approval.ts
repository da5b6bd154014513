import type { Approval } from '../../../../contracts/approvals.ts';
import type { AutonomyHost } from './autonomy-host.ts';

/** The run's one pending approval, as the approvals API lists it; throws when there is none. */
export async function pendingApproval(h: AutonomyHost, runId: string): Promise<Approval> {
  const res = await h.request('GET', `/v1/approvals?state=pending&run_id=${runId}`);
  const [approval] = (res.body as { approvals: Approval[] }).approvals;
  if (approval === undefined) throw new Error('no pending approval');
  return approval;
}
