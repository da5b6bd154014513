import { createHash, randomBytes } from 'node:crypto';
import {
  adapterConfigInputSchema,
  adapterConfigSchema,
  type AdapterConfig,
} from '../../contracts/connector-adapter.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError, invalidInput } from '../errors.ts';
import type { SecretStore } from '../policy/secret-store.ts';
import { checkEgressOrigin, originOf } from '../skills/manifest/egress-origin.ts';
import type { ConnectorAdaptersTable, Db } from '../store/schema.ts';

export type AdapterConfigsDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  secrets: SecretStore;
  /** Whether a webhook's `outbound_url` may be plain http to loopback (as for skills). */
  allowLoopbackHttp?: boolean;
};

/**
 * The secret store name of a connector's inbound secret. Derived from a digest of the id, so
 * two ids that differ only in `-` and `_` never share one, and the name reveals nothing.
 */
export function inboundSecretName(connectorId: string): string {
  const digest = createHash('sha256').update(connectorId, 'utf8').digest('hex').slice(0, 16);
  return `CONNECTOR_${digest.toUpperCase()}_INBOUND`;
}

/**
 * Connectors' adapter configurations (issue 23): which adapter, how its inbound requests are
 * proven, which messages activate, and the run a message creates. An HMAC key or bearer token
 * is made here, kept in the secret store, and shown once; every change is a chain entry.
 */
export class AdapterConfigs {
  readonly #deps: AdapterConfigsDeps;
  /** The configurations as last committed by this host: the outbox's transports read them synchronously. */
  readonly #known = new Map<string, AdapterConfig>();

  constructor(deps: AdapterConfigsDeps) {
    this.#deps = deps;
  }

  /** Reads every configuration into `known` (start-up). */
  async load(): Promise<AdapterConfig[]> {
    const all = await this.list();
    this.#known.clear();
    for (const config of all) this.#known.set(config.connector_id, config);
    return all;
  }

  /** The configuration as loaded or last set here, without a database read. */
  known(connectorId: string): AdapterConfig | undefined {
    return this.#known.get(connectorId);
  }

  /** The configuration, or undefined; `db` is a transaction's when called inside one. */
  async find(connectorId: string, db: Db = this.#deps.db): Promise<AdapterConfig | undefined> {
    const row = await db
      .selectFrom('connector_adapters')
      .selectAll()
      .where('connector_id', '=', connectorId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async get(connectorId: string): Promise<AdapterConfig> {
    const found = await this.find(connectorId);
    if (found === undefined)
      throw new AppError('NOT_FOUND', `connector ${connectorId} has no adapter configured`);
    return found;
  }

  async list(): Promise<AdapterConfig[]> {
    const rows = await this.#deps.db
      .selectFrom('connector_adapters')
      .selectAll()
      .orderBy('connector_id')
      .execute();
    return rows.map(fromRow);
  }

  /** The inbound secret's value, for the adapter's check; null for the local chat. */
  async secretOf(config: AdapterConfig): Promise<string | null> {
    if (config.secret_name === null) return null;
    return (await this.#deps.secrets.reveal(config.secret_name)) ?? null;
  }

  /**
   * Creates or replaces a connector's adapter configuration. A secret is made when the mode
   * needs one and none exists yet (or `rotate`); it is returned only then.
   */
  async set(
    connectorId: string,
    input: unknown,
    ctx: ActorContext,
    options: { rotate?: boolean } = {},
  ): Promise<{ config: AdapterConfig; secret: string | null }> {
    const parsed = adapterConfigInputSchema.safeParse(input);
    if (!parsed.success) throw invalidInput('adapter configuration', parsed.error.issues);
    const wanted = parsed.data;
    if ((wanted.adapter === 'local_chat') !== (wanted.inbound_auth.mode === 'person'))
      throw new AppError(
        'CONNECTOR_INVALID',
        'the local chat adapter uses inbound_auth "person", and only it does',
        { fields: [{ path: 'inbound_auth.mode', message: 'does not fit the adapter' }] },
      );
    if (wanted.outbound_url !== undefined)
      this.#checkOutboundUrl(wanted.adapter, wanted.outbound_url);
    return this.#deps.chain.transact(async (tx) => {
      const now = this.#deps.clock.now().toISOString();
      const before = await tx.db
        .selectFrom('connector_adapters')
        .select(['created_at', 'secret_name'])
        .where('connector_id', '=', connectorId)
        .executeTakeFirst();
      const secretName =
        wanted.inbound_auth.mode === 'person' ? null : inboundSecretName(connectorId);
      let secret: string | null = null;
      if (secretName !== null) {
        const exists = await tx.db
          .selectFrom('secrets')
          .select('name')
          .where('name', '=', secretName)
          .executeTakeFirst();
        if (exists === undefined || options.rotate === true) {
          // 256 random bits: the sender's HMAC key or bearer token.
          secret = randomBytes(32).toString('base64url');
          await this.#deps.secrets.setIn(tx, secretName, secret, ctx);
        }
      } else if (before?.secret_name != null) {
        await this.#deps.secrets.discardIn(tx, before.secret_name, ctx);
      }
      const config = adapterConfigSchema.parse({
        ...wanted,
        connector_id: connectorId,
        secret_name: secretName,
        created_at: before?.created_at ?? now,
        updated_at: now,
      });
      const row = toRow(config);
      await tx.db
        .insertInto('connector_adapters')
        .values(row)
        .onConflict((oc) =>
          oc.column('connector_id').doUpdateSet({
            adapter: row.adapter,
            version: row.version,
            config: row.config,
            secret_name: row.secret_name,
            updated_at: row.updated_at,
          }),
        )
        .execute();
      await tx.append({
        event_type: 'connector.adapter_set',
        ...auditedBy(ctx),
        data: {
          connector_id: connectorId,
          adapter: config.adapter,
          version: config.version,
          inbound_auth: config.inbound_auth.mode,
          created: before === undefined,
          secret_made: secret !== null,
          outbound:
            config.outbound_url === undefined ? null : (originOf(config.outbound_url) ?? null),
        },
      });
      tx.afterCommit(() => this.#known.set(connectorId, config));
      return { config, secret };
    });
  }

  /** Removes the configuration and its secret; its connections and messages stay for the audit trail. */
  async remove(connectorId: string, ctx: ActorContext): Promise<void> {
    await this.#deps.chain.transact(async (tx) => {
      const row = await tx.db
        .selectFrom('connector_adapters')
        .select('secret_name')
        .where('connector_id', '=', connectorId)
        .executeTakeFirst();
      if (row === undefined)
        throw new AppError('NOT_FOUND', `connector ${connectorId} has no adapter configured`);
      await tx.db
        .deleteFrom('connector_adapters')
        .where('connector_id', '=', connectorId)
        .execute();
      if (row.secret_name !== null) await this.#deps.secrets.discardIn(tx, row.secret_name, ctx);
      await tx.append({
        event_type: 'connector.adapter_removed',
        ...auditedBy(ctx),
        data: { connector_id: connectorId },
      });
      tx.afterCommit(() => this.#known.delete(connectorId));
    });
  }

  /**
   * An outbound URL is where the host will POST what agents write: only a webhook has one,
   * and its origin passes the skills' egress rule, so a connector cannot become a way to
   * plain-http hosts, credentials in URLs, or non-loopback http.
   */
  #checkOutboundUrl(adapter: AdapterConfig['adapter'], url: string): void {
    const refuse = (message: string): never => {
      throw new AppError('CONNECTOR_INVALID', `outbound_url ${message}`, {
        fields: [{ path: 'outbound_url', message }],
      });
    };
    if (adapter !== 'webhook') refuse('is only for the webhook adapter');
    const origin = originOf(url);
    if (origin === undefined) return refuse('is not an http(s) URL without credentials');
    const check = checkEgressOrigin(origin, this.#deps.allowLoopbackHttp ?? false);
    if (!check.ok) refuse(check.reason);
  }
}

function toRow(config: AdapterConfig): ConnectorAdaptersTable {
  return {
    connector_id: config.connector_id,
    adapter: config.adapter,
    version: config.version,
    config: JSON.stringify({
      inbound_auth: config.inbound_auth,
      activation: config.activation,
      template: config.template,
      max_payload_bytes: config.max_payload_bytes,
      ...(config.outbound_url === undefined ? {} : { outbound_url: config.outbound_url }),
    }),
    secret_name: config.secret_name,
    created_at: config.created_at,
    updated_at: config.updated_at,
  };
}

function fromRow(row: ConnectorAdaptersTable): AdapterConfig {
  return adapterConfigSchema.parse({
    ...(JSON.parse(row.config) as Record<string, unknown>),
    connector_id: row.connector_id,
    adapter: row.adapter,
    version: row.version,
    secret_name: row.secret_name,
    created_at: row.created_at,
    updated_at: row.updated_at,
  });
}
