import type {
  AdapterConfig,
  Connection,
  InboundResult,
} from '../../contracts/connector-adapter.ts';
import type { MessageEnvelope } from '../../contracts/message-envelope.ts';
import type { ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SessionService } from '../runs/session-service.ts';
import type { RunSteering } from '../runs/run-steering.ts';
import { arrivalNote, CONNECTOR_MESSAGE_EVENT, envelopeForAgent, goalFor } from './agent-view.ts';
import type { ConnectorRecords } from './connector-records.ts';

export type InboundRoutingDeps = {
  runs: RunService;
  sessions: SessionService;
  records: ConnectorRecords;
  steering: RunSteering;
};

export type Routed = { outcome: InboundResult['outcome']; run_id: string | null };

/**
 * Where an activated message of an approved channel goes, inside the transaction that
 * accepted it: to the session's active run as an event (resuming it when it waits for
 * `connector.message`), or into a new run from the connector's template — one active run
 * per session, as everywhere. Either way the run gets the envelope, never the content: an
 * active run's agent in an arrival note at its next LLM step.
 */
export class InboundRouting {
  readonly #deps: InboundRoutingDeps;

  constructor(deps: InboundRoutingDeps) {
    this.#deps = deps;
  }

  async routeIn(
    tx: ChainTx,
    envelope: MessageEnvelope,
    connection: Connection,
    config: AdapterConfig,
    ctx: ActorContext,
  ): Promise<Routed> {
    const session = await this.#deps.sessions.getIn(tx, connection.session_id);
    if (session.active_run_id !== null) {
      const received = await this.#deps.runs.receiveEventIn(
        tx,
        session.active_run_id,
        { type: CONNECTOR_MESSAGE_EVENT, payload: { envelope: envelopeForAgent(envelope) } },
        ctx,
      );
      // The event resumes a waiting run; the note is how its agent learns what came.
      await this.#deps.steering.addArrivalNoteIn(tx, received.run, arrivalNote(envelope), ctx);
      return {
        outcome: received.resumed ? 'resumed_run' : 'delivered_to_active_run',
        run_id: session.active_run_id,
      };
    }
    const limits = await this.#deps.records.limitsForIn(tx.db, config.connector_id);
    const pack = config.template.policy_pack ?? limits.allowed_packs[0];
    if (pack === undefined || !limits.allowed_packs.includes(pack))
      throw new AppError(
        'CONNECTOR_INVALID',
        `connector ${config.connector_id}'s template names policy pack "${pack ?? ''}", which its record does not allow`,
      );
    const run = await this.#deps.runs.createIn(
      tx,
      {
        goal: goalFor(config.template.goal, envelope),
        session_id: connection.session_id,
        policy_pack: pack,
        ...(config.template.budget === undefined ? {} : { budget: config.template.budget }),
      },
      { ...ctx, origin: 'connector', budget_caps: limits.budget_caps },
    );
    return { outcome: 'created_run', run_id: run.id };
  }
}
