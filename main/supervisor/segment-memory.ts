import type { AgentMemoryAudience } from '../../contracts/memory.ts';
import type { MemoryGetReply, MemoryListReply } from '../../contracts/agent-channel.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { AppError } from '../errors.ts';
import { agentWriteLabel, type AgentReads } from '../memory/agent-write-label.ts';
import { resolveAgentNamespaceIn, type AgentNamespace } from '../memory/agent-namespaces.ts';
import { audienceIdFor, audienceWithin, runAudienceIn } from '../memory/memory-audience.ts';
import { MEMORY_RULES } from '../memory/memory-rules.ts';
import type { MemoryAudit, MemoryReader } from '../memory/memory-store.ts';
import { join, joinTaint, PUBLIC } from '../policy/labels.ts';
import { refuseQuotaIn } from './quota-refusal.ts';
import { requireRunningIn, type SegmentContext } from './segment-context.ts';

/** What an agent's `ccos/memory.put` asks for. */
export type AgentMemoryPut = {
  key: string;
  value: unknown;
  namespace?: string | undefined;
  audience?: AgentMemoryAudience | undefined;
  ttl_ms?: number | undefined;
};

/**
 * The memory handlers of one segment, through governed memory: the run's agent names a
 * namespace (`run`, `goal`, `session`, or one its pack shares), never a stored one, so it
 * cannot spell its way into another run's, session's or skill's items; reads are filtered by
 * audience, label and expiry, and reply with the item's label and taint; writes are labelled
 * by `agentWriteLabel` and held to the pack's memory quotas.
 */
export class SegmentMemory {
  readonly #ctx: SegmentContext;
  /** Memory writes this segment made, against its quota. */
  #memoryPuts = 0;
  /** The join of what the agent has read from memory this segment (its context window holds it). */
  #reads: AgentReads = { label: PUBLIC, taint: 'trusted' };

  constructor(ctx: SegmentContext) {
    this.#ctx = ctx;
  }

  #audit(namespace: string): MemoryAudit {
    const { run, actor } = this.#ctx;
    return {
      actor,
      session_id: run.session_id,
      run_id: run.id,
      data: { agent_namespace: namespace },
    };
  }

  async #readerIn(tx: ChainTx, namespace: string): Promise<MemoryReader> {
    return {
      audience: await runAudienceIn(tx, this.#ctx.run.id),
      clearance: this.#ctx.grant.memory.agentReadable,
      audit: this.#audit(namespace),
    };
  }

  /** Refuses a namespace the agent may not name, on the chain; the caller throws after commit. */
  async #resolveIn(tx: ChainTx, name: string): Promise<AgentNamespace | AppError> {
    const resolved = await resolveAgentNamespaceIn(tx, this.#ctx.run, this.#ctx.grant.memory, name);
    if (resolved !== undefined) return resolved;
    return this.#ctx.deps.memory.refuseIn(
      tx,
      MEMORY_RULES.namespace,
      this.#audit(name),
      { namespace: name, reason: 'undeclared' },
      `memory namespace ${name} is not one this run may use: use run, goal, session or a namespace the policy pack shares`,
    );
  }

  async get(key: string, namespace = 'run'): Promise<MemoryGetReply> {
    const { deps } = this.#ctx;
    const result = await deps.chain.transact(async (tx) => {
      const ns = await this.#resolveIn(tx, namespace);
      if (!('stored' in ns)) return ns;
      const record = await deps.memory.readIn(
        tx,
        await this.#readerIn(tx, namespace),
        ns.stored,
        key,
      );
      return record;
    });
    if (result !== undefined && !('id' in result)) throw result;
    if (result === undefined) return { value: null };
    this.#reads = {
      label: join(this.#reads.label, result.label),
      taint: joinTaint(this.#reads.taint, result.taint),
    };
    return { value: result.value, label: [...result.label], taint: result.taint };
  }

  /** Keys (with labels and taints, never values) of a namespace this run may see. */
  async list(namespace = 'run', prefix = ''): Promise<MemoryListReply> {
    const { deps } = this.#ctx;
    const result = await deps.chain.transact(async (tx) => {
      const ns = await this.#resolveIn(tx, namespace);
      if (!('stored' in ns)) return ns;
      return deps.memory.listIn(tx, await this.#readerIn(tx, namespace), ns.stored, prefix);
    });
    if (!Array.isArray(result)) throw result;
    return {
      items: result.map((r) => ({ key: r.key, label: [...r.label], taint: r.taint })),
    };
  }

  async put(request: AgentMemoryPut): Promise<void> {
    const { deps, grant, actor } = this.#ctx;
    const name = request.namespace ?? 'run';
    const error = await deps.chain.transact(async (tx): Promise<AppError | undefined> => {
      const run = await requireRunningIn(this.#ctx, tx);
      const ns = await this.#resolveIn(tx, name);
      if (!('stored' in ns)) return ns;
      const audit = this.#audit(name);
      const audience = request.audience ?? ns.defaultAudience;
      const reader = await runAudienceIn(tx, run.id);
      const audienceId = audienceIdFor(audience, reader);
      if (!audienceWithin(audience, ns.widest) || audienceId === undefined) {
        return deps.memory.refuseIn(
          tx,
          MEMORY_RULES.audience,
          audit,
          { namespace: name, key: request.key, reason: `audience_${audience}` },
          `namespace ${name} takes items for at most the ${ns.widest} audience${audienceId === undefined ? `; this run has no ${audience}` : ''}`,
        );
      }
      const { max_memory_puts: puts, run_memory_max_bytes: maxBytes } = grant.quotas;
      if (this.#memoryPuts >= puts) {
        return refuseQuotaIn(tx, run, 'memory_puts', { limit: puts, used: this.#memoryPuts });
      }
      // Everything this run has written (every namespace) after this write.
      const replaced = await deps.memory.existingIdIn(
        tx,
        ns.stored,
        request.key,
        audience,
        audienceId,
      );
      const others = await deps.memory.runBytesIn(tx, run.id, replaced);
      const bytes =
        Buffer.byteLength(request.key) + Buffer.byteLength(JSON.stringify(request.value ?? null));
      if (others + bytes > maxBytes) {
        return refuseQuotaIn(tx, run, 'memory_bytes', { limit: maxBytes, used: others + bytes });
      }
      const ttl = request.ttl_ms ?? grant.memory.defaultTtlMs;
      const { label, taint } = agentWriteLabel(this.#reads);
      const written = await deps.memory.writeIn(
        tx,
        {
          namespace: ns.stored,
          key: request.key,
          value: request.value ?? null,
          label,
          taint,
          source: { kind: 'agent', id: run.id, version: null },
          run_id: run.id,
          step_id: null,
          session_id: run.session_id,
          audience,
          audience_id: audienceId,
          expires_at:
            ttl === null ? null : new Date(deps.clock.now().getTime() + ttl).toISOString(),
        },
        { ...audit, actor },
      );
      if (!written.ok) return written.error;
      this.#memoryPuts += 1;
      return undefined;
    });
    if (error !== undefined) throw error;
  }
}
