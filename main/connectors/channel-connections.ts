import type { Approval } from '../../contracts/approvals.ts';
import { connectionSchema, type Connection } from '../../contracts/connector-adapter.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { HostHeldRuns } from '../runs/host-held-runs.ts';
import type { RunService } from '../runs/run-service.ts';
import type { ConnectorConnectionsTable, Db } from '../store/schema.ts';

/** The gate a new channel's approval is asked by. */
export const RULE_CHANNEL_APPROVAL = 'connector.channel_approval';
/** What a denied channel's messages are refused by. */
export const RULE_CHANNEL_DENIED = 'connector.channel_denied';

export type ChannelConnectionsDeps = {
  db: Db;
  clock: Clock;
  runs: RunService;
  approvals: ApprovalService;
  heldRuns: HostHeldRuns;
};

/**
 * Channel connections (CHAT-SECURITY-CONTRACT.md, "Activation and consent"): the first
 * message of a connector's channel opens one, with a session of its own and a `channel`
 * approval; until a person approves it its messages only wait in quarantine. Approvals
 * belong to runs, so the request hangs on a run the host holds parked in that session
 * (HostHeldRuns), released when the connection is decided.
 */
export class ChannelConnections {
  readonly #deps: ChannelConnectionsDeps;

  constructor(deps: ChannelConnectionsDeps) {
    this.#deps = deps;
  }

  async list(connectorId?: string): Promise<Connection[]> {
    let query = this.#deps.db.selectFrom('connector_connections').selectAll();
    if (connectorId !== undefined) query = query.where('connector_id', '=', connectorId);
    const rows = await query.orderBy('created_at').execute();
    return rows.map(fromRow);
  }

  /** The channel's connection, opened (asking for its approval) when it has none. */
  async findOrOpenIn(
    tx: ChainTx,
    connectorId: string,
    channelId: string,
    ctx: ActorContext,
  ): Promise<{ connection: Connection; opened: boolean }> {
    const row = await tx.db
      .selectFrom('connector_connections')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    if (row !== undefined) return { connection: fromRow(row), opened: false };
    const heldRunId = await this.#deps.heldRuns.holdIn(
      tx,
      null,
      {
        goal: `Channel connection ${connectorId}/${channelId}: waiting for a person to approve it`,
        started: 'a new channel connection asks for its approval',
        parked: 'waiting for the channel approval; no agent works on this run',
        waiting_for: 'channel.approval',
      },
      { ...ctx, origin: 'connector' },
    );
    const held = await this.#deps.runs.getIn(tx, heldRunId);
    const approval = await this.#deps.approvals.requestIn(
      tx,
      {
        run_id: heldRunId,
        step_id: `synthetic:channel:${connectorId}:${channelId}`,
        kind: 'channel',
        scope: `${connectorId}/${channelId}`,
        justification: `Connector ${connectorId} received a first message on channel ${channelId}. Approve to let its messages reach agents; they wait in quarantine until then.`,
        permission_diff: [
          {
            permission: `connector.${connectorId}.channel.${channelId}`,
            from: 'none',
            to: 'process messages',
          },
        ],
        request: { connector_id: connectorId, channel_id: channelId },
        rule_id: RULE_CHANNEL_APPROVAL,
      },
      ctx,
    );
    const connection: Connection = {
      id: newId('conn'),
      connector_id: connectorId,
      channel_id: channelId,
      state: 'pending_approval',
      session_id: held.session_id,
      approval_id: approval.id,
      created_at: this.#deps.clock.now().toISOString(),
      decided_at: null,
    };
    await tx.db
      .insertInto('connector_connections')
      .values({ ...connection, held_run_id: heldRunId })
      .execute();
    return { connection, opened: true };
  }

  /**
   * Applies a `channel` approval's decision to its connection, in the decision's transaction:
   * approved (or modified) opens it, anything else (denied, expired) closes it for good. The
   * held run is released either way. Undefined when the approval names no connection.
   */
  async decideIn(
    tx: ChainTx,
    approval: Approval,
    ctx: ActorContext,
  ): Promise<Connection | undefined> {
    const row = await tx.db
      .selectFrom('connector_connections')
      .selectAll()
      .where('approval_id', '=', approval.id)
      .executeTakeFirst();
    if (row?.state !== 'pending_approval') return undefined;
    const state =
      approval.state === 'approved' || approval.state === 'modified' ? 'approved' : 'denied';
    const decidedAt = this.#deps.clock.now().toISOString();
    await tx.db
      .updateTable('connector_connections')
      .set({ state, decided_at: decidedAt })
      .where('id', '=', row.id)
      .execute();
    if (row.held_run_id !== null)
      await this.#deps.heldRuns.releaseIn(tx, row.held_run_id, `channel connection ${state}`, ctx);
    await tx.append({
      event_type: 'connection.decided',
      ...auditedBy(ctx),
      session_id: row.session_id,
      rule_id: RULE_CHANNEL_APPROVAL,
      data: {
        connection_id: row.id,
        connector_id: row.connector_id,
        channel_id: row.channel_id,
        approval_id: approval.id,
        state,
      },
    });
    return fromRow({ ...row, state, decided_at: decidedAt });
  }
}

function fromRow(row: ConnectorConnectionsTable): Connection {
  return connectionSchema.parse({
    id: row.id,
    connector_id: row.connector_id,
    channel_id: row.channel_id,
    state: row.state,
    session_id: row.session_id,
    approval_id: row.approval_id,
    created_at: row.created_at,
    decided_at: row.decided_at,
  });
}
