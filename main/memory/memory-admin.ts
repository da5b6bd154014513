import type {
  MemoryItem,
  MemoryListQuery,
  MemoryPurgeRequest,
  MemoryPurgeResult,
} from '../../contracts/memory.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import { includes, type Label } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { MemoryRecord } from './memory-record.ts';
import type { MemoryStore } from './memory-store.ts';

/** Who looks at memory through the API: only an admin is ever shown personal data. */
export type MemoryViewer = { admin: boolean };

const PII_ATOMS = [
  'pii.redacted',
  'pii.chat.message',
  'pii.chat.metadata',
  'pii.attachment',
] as const;

function holdsPii(l: Label): boolean {
  return PII_ATOMS.some((a) => includes(l, a));
}

/**
 * An item as the person sees it: the redactor masks any known secret or credential shape on
 * the way out (a value stored before the refusal existed, or matching a secret added since),
 * a `pii.*` value reaches an admin only, and a `secret.token` one nobody.
 */
export function viewMemoryItem(
  redactor: Redactor,
  record: MemoryRecord,
  viewer: MemoryViewer,
): MemoryItem {
  const secret = includes(record.label, 'secret.token');
  const piiHidden = !viewer.admin && holdsPii(record.label);
  const redacted = redactor.redactValue(record.value);
  const withheld = secret || piiHidden || JSON.stringify(redacted) !== JSON.stringify(record.value);
  return {
    id: record.id,
    namespace: record.namespace,
    key: redactor.redactString(record.key),
    value: secret || piiHidden ? null : redacted,
    value_withheld: withheld,
    label: [...record.label],
    taint: record.taint,
    source: record.source,
    run_id: record.run_id,
    step_id: record.step_id,
    session_id: record.session_id,
    audience: record.audience,
    audience_id: record.audience_id === '' ? null : record.audience_id,
    expires_at: record.expires_at,
    created_at: record.created_at,
    updated_at: record.updated_at,
  };
}

/**
 * What the person sees of memory (`/v1/memory`, `ccos memory`): items with their governance
 * fields, values redacted on the way out (`viewMemoryItem`). Deletes and purges are chain
 * entries.
 */
export class MemoryAdmin {
  readonly #deps: { memory: MemoryStore; chain: CausalChain; redactor: Redactor };

  constructor(deps: { memory: MemoryStore; chain: CausalChain; redactor: Redactor }) {
    this.#deps = deps;
  }

  view(record: MemoryRecord, viewer: MemoryViewer): MemoryItem {
    return viewMemoryItem(this.#deps.redactor, record, viewer);
  }

  async list(query: MemoryListQuery, viewer: MemoryViewer): Promise<MemoryItem[]> {
    const records = await this.#deps.memory.listAll(query);
    return records.map((r) => this.view(r, viewer));
  }

  async show(id: string, viewer: MemoryViewer): Promise<MemoryItem> {
    const record = await this.#deps.memory.get(id);
    if (record === undefined) throw new AppError('NOT_FOUND', `no memory item ${id}`);
    return this.view(record, viewer);
  }

  async delete(id: string, ctx: ActorContext): Promise<void> {
    const deleted = await this.#deps.chain.transact((tx) =>
      this.#deps.memory.deleteIn(tx, id, auditedBy(ctx)),
    );
    if (!deleted) throw new AppError('NOT_FOUND', `no memory item ${id}`);
  }

  async purge(scope: MemoryPurgeRequest, ctx: ActorContext): Promise<MemoryPurgeResult> {
    const purged = await this.#deps.chain.transact((tx) =>
      this.#deps.memory.purgeIn(tx, scope, auditedBy(ctx)),
    );
    return { purged };
  }
}
