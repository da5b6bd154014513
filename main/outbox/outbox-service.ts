import type { OutboundContent, OutboxMessage, OutboxSettings } from '../../contracts/outbox.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { describeLabel, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { DeliveryTransports } from './delivery-transport.ts';
import { judgeOutbound, OUTBOUND_RULES, type GateRefusal } from './outbound-gate.ts';
import { enqueueIn } from './outbox-store.ts';

/** One message a step asks to send. */
export type OutboundRequest = {
  connector_id: string;
  channel_id: string;
  content: OutboundContent;
  /** What the content derives from: for an agent's message, its LLM answer's context window. */
  label: Label;
  idempotency_key?: string | undefined;
  run_id: string | null;
  step_id: string | null;
  session_id: string | null;
  actor: string;
  /** The run's pack's setting; the row keeps it. */
  max_attempts: number;
};

export type OutboxServiceDeps = {
  clock: Clock;
  redactor: Redactor;
  transports: DeliveryTransports;
  /** Called after a commit that queued something (the dispatcher's `poke`). */
  queued: () => void;
};

/** The delivery settings when a pack names none. */
export const DEFAULT_OUTBOX_SETTINGS: OutboxSettings = {
  max_attempts: 8,
  base_delay_ms: 1_000,
  max_delay_ms: 600_000,
};

/**
 * Records a refused send (`policy.decision` with its rule) in the caller's transaction and
 * returns the OUTBOUND_DENIED error for the caller to answer with after the commit.
 */
export async function refuseOutboundIn(
  tx: ChainTx,
  request: Pick<
    OutboundRequest,
    'actor' | 'session_id' | 'run_id' | 'step_id' | 'connector_id' | 'label'
  >,
  refusal: GateRefusal,
): Promise<AppError> {
  await tx.append({
    event_type: 'policy.decision',
    actor: request.actor,
    session_id: request.session_id,
    run_id: request.run_id,
    step_id: request.step_id,
    rule_id: refusal.rule_id,
    data: {
      decision: 'refused',
      action: 'outbound.send',
      connector_id: request.connector_id,
      label: describeLabel(request.label),
      reason: refusal.reason,
    },
  });
  return new AppError('OUTBOUND_DENIED', refusal.reason, { rule_id: refusal.rule_id });
}

/**
 * The one way into the outbox: judged (`judgeOutbound`), redacted, then queued in the
 * caller's transaction — the transaction of the step that sends — so the message exists
 * exactly when the step does. A refusal is a `policy.decision` in that same transaction and
 * comes back as an OUTBOUND_DENIED error for the caller to return after commit.
 */
export class OutboxService {
  readonly #deps: OutboxServiceDeps;

  constructor(deps: OutboxServiceDeps) {
    this.#deps = deps;
  }

  /**
   * What the outbox would say of this content on this connector before any person is asked:
   * a refusal (no transport, a secret, a label above `pii.redacted`), or whether the message
   * stays on this machine.
   */
  judge(
    request: Pick<OutboundRequest, 'connector_id' | 'content' | 'label'>,
  ): { ok: true; onMachine: boolean } | { ok: false; refusal: GateRefusal } {
    const transport = this.#deps.transports(request.connector_id);
    if (transport === undefined)
      return {
        ok: false,
        refusal: {
          rule_id: OUTBOUND_RULES.channel,
          reason: `connector ${request.connector_id} cannot send messages`,
        },
      };
    const refusal = judgeOutbound(request.content, request.label, this.#deps.redactor);
    if (refusal !== undefined) return { ok: false, refusal };
    return { ok: true, onMachine: transport.onMachine === true };
  }

  async sendIn(
    tx: ChainTx,
    request: OutboundRequest,
  ): Promise<{ ok: true; message: OutboxMessage } | { ok: false; error: AppError }> {
    const { redactor, clock } = this.#deps;
    const judged = this.judge(request);
    const refusal = judged.ok ? undefined : judged.refusal;
    if (refusal !== undefined)
      return { ok: false, error: await refuseOutboundIn(tx, request, refusal) };
    const message = await enqueueIn(tx, {
      ...request,
      // Redacted on write, like every payload: what is stored is all that can ever leave.
      content: redactor.redactValue(request.content),
      now: clock.now(),
    });
    tx.afterCommit(this.#deps.queued);
    return { ok: true, message };
  }
}
