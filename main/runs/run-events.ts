import type { Run, RunEventInput } from '../../contracts/runs.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { readRun } from './run-rows.ts';
import type { RunTransitions } from './run-transition.ts';

export type RunEventDeps = { clock: Clock; transitions: RunTransitions };

/**
 * Records an external event for a run in `tx`; when the run waits for exactly this type, it
 * is queued to resume (trigger `external_event`). Other events are kept, and change nothing.
 */
export async function receiveRunEventIn(
  tx: ChainTx,
  deps: RunEventDeps,
  runId: string,
  event: RunEventInput,
  ctx: ActorContext,
): Promise<{ event_id: string; resumed: boolean; run: Run }> {
  const run = await readRun(tx.db, runId);
  const id = newId('ev');
  await tx.db
    .insertInto('events')
    .values({
      id,
      run_id: runId,
      type: event.type,
      payload: JSON.stringify(event.payload ?? {}),
      source: ctx.actor,
      received_at: deps.clock.now().toISOString(),
    })
    .execute();
  await tx.append({
    event_type: 'event.received',
    ...auditedBy(ctx),
    session_id: run.session_id,
    run_id: runId,
    // The payload is external data: the chain records that it came, not what it said.
    data: {
      event_id: id,
      type: event.type,
      payload_bytes: JSON.stringify(event.payload ?? {}).length,
    },
  });
  const matches = run.state === 'paused_external_event' && run.waiting_for === event.type;
  if (!matches) return { event_id: id, resumed: false, run };
  const resumed = await deps.transitions.transitionIn(tx, runId, 'pending', {
    ...ctx,
    reason: `event ${event.type} received`,
    trigger: 'external_event',
  });
  return { event_id: id, resumed: true, run: resumed };
}
