import {
  connectorRecordSchema,
  type ConnectorRecord,
  type PutConnectorInput,
} from '../../contracts/connectors.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from '../policy/policy-packs.ts';
import type { ConnectorsTable, Db } from '../store/schema.ts';

/** What a connector may use when nobody wrote a record for it: the default pack, its defaults. */
export const DEFAULT_CONNECTOR_LIMITS = {
  allowed_packs: [DEFAULT_POLICY_PACK.id],
  budget_caps: {},
} as const satisfies Pick<ConnectorRecord, 'allowed_packs' | 'budget_caps'>;

export type ConnectorLimits = Pick<ConnectorRecord, 'allowed_packs' | 'budget_caps'>;

/**
 * Connector records (issue 17 #13): per connector, the policy packs its runs may name and the
 * caps on their budgets. Admins write them; the gateway reads them to clamp every non-admin
 * run creation. Each write is a chain entry in the same transaction.
 */
export class ConnectorRecords {
  readonly #deps: { db: Db; chain: CausalChain; clock: Clock; policies: PolicyPacks };

  constructor(deps: { db: Db; chain: CausalChain; clock: Clock; policies: PolicyPacks }) {
    this.#deps = deps;
  }

  async get(id: string): Promise<ConnectorRecord> {
    const record = await this.#find(id);
    if (record === undefined) throw new AppError('NOT_FOUND', `connector ${id} has no record`);
    return record;
  }

  async list(): Promise<ConnectorRecord[]> {
    const rows = await this.#deps.db.selectFrom('connectors').selectAll().orderBy('id').execute();
    return rows.map(fromRow);
  }

  /** The limits in force for a connector: its record, or the defaults when it has none. */
  async limitsFor(connectorId: string | null): Promise<ConnectorLimits> {
    if (connectorId === null) return DEFAULT_CONNECTOR_LIMITS;
    return (await this.#find(connectorId)) ?? DEFAULT_CONNECTOR_LIMITS;
  }

  /** `limitsFor` inside a caller's transaction (its `tx.db`). */
  async limitsForIn(db: Db, connectorId: string): Promise<ConnectorLimits> {
    return (await this.#find(connectorId, db)) ?? DEFAULT_CONNECTOR_LIMITS;
  }

  async #find(id: string, db: Db = this.#deps.db): Promise<ConnectorRecord | undefined> {
    const row = await db
      .selectFrom('connectors')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Creates or replaces a record. Every pack it names must be one this host knows. */
  put(id: string, input: PutConnectorInput, ctx: ActorContext): Promise<ConnectorRecord> {
    input.allowed_packs.forEach((pack, i) => {
      try {
        this.#deps.policies.get(pack);
      } catch {
        throw new AppError('INVALID_INPUT', `unknown policy pack "${pack}"`, {
          fields: [{ path: `allowed_packs.${i}`, message: `unknown policy pack "${pack}"` }],
        });
      }
    });
    return this.#deps.chain.transact(async (tx) => {
      const now = this.#deps.clock.now().toISOString();
      const before = await tx.db
        .selectFrom('connectors')
        .select('created_at')
        .where('id', '=', id)
        .executeTakeFirst();
      const record = connectorRecordSchema.parse({
        id,
        allowed_packs: [...new Set(input.allowed_packs)],
        budget_caps: input.budget_caps ?? {},
        created_at: before?.created_at ?? now,
        updated_at: now,
      });
      const row = toRow(record);
      await tx.db
        .insertInto('connectors')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            allowed_packs: row.allowed_packs,
            budget_caps: row.budget_caps,
            updated_at: row.updated_at,
          }),
        )
        .execute();
      await tx.append({
        event_type: 'connector.configured',
        ...auditedBy(ctx),
        data: {
          connector_id: id,
          allowed_packs: record.allowed_packs,
          budget_caps: record.budget_caps,
          created: before === undefined,
        },
      });
      return record;
    });
  }
}

function toRow(record: ConnectorRecord): ConnectorsTable {
  return {
    ...record,
    allowed_packs: JSON.stringify(record.allowed_packs),
    budget_caps: JSON.stringify(record.budget_caps),
  };
}

function fromRow(row: ConnectorsTable): ConnectorRecord {
  return connectorRecordSchema.parse({
    ...row,
    allowed_packs: JSON.parse(row.allowed_packs) as unknown,
    budget_caps: JSON.parse(row.budget_caps) as unknown,
  });
}
