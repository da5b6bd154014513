import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import type { RunService } from '../runs/run-service.ts';
import { CONNECTOR_MESSAGE_EVENT } from '../../contracts/message-envelope.ts';

/**
 * `ccos__resume_later {until_message: true}` (issue 23): the run waits in
 * `paused_external_event` for its session's next connector message, which resumes it
 * (inbound-routing) with an arrival note naming the envelope. Refused, inside the caller's
 * transaction (its checkpoint rolls back too), when no approved channel feeds the session:
 * nothing would ever wake the run.
 */
export async function waitForMessageIn(
  tx: ChainTx,
  runs: RunService,
  run: Run,
  actor: string,
  why: string,
): Promise<void> {
  const channel = await tx.db
    .selectFrom('connector_connections')
    .select('connector_id')
    .where('session_id', '=', run.session_id)
    .where('state', '=', 'approved')
    .executeTakeFirst();
  if (channel === undefined)
    throw new AppError(
      'INVALID_INPUT',
      'no approved connector channel feeds this run’s session: no message could wake it',
      { fields: [{ path: 'until_message', message: 'no channel feeds this session' }] },
    );
  await runs.transitionIn(tx, run.id, 'paused_external_event', {
    actor,
    // Not the channel id: it is pii.chat.metadata, and a reason is shown wherever the run is.
    reason: `waits for the next message of connector ${channel.connector_id}${why}`.slice(0, 600),
    waiting_for: CONNECTOR_MESSAGE_EVENT,
  });
}
