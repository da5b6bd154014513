import type { AgentMemoryAudience } from '../../contracts/memory.ts';
import type {
  MemoryGetReply,
  MemoryListReply,
  MemoryPutReply,
} from '../../contracts/agent-channel.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { AppError } from '../errors.ts';
import { resolveAgentNamespaceIn, type AgentNamespace } from '../memory/agent-namespaces.ts';
import { audienceIdFor, audienceWithin, runAudienceIn } from '../memory/memory-audience.ts';
import { MEMORY_RULES } from '../memory/memory-rules.ts';
import type { MemoryAudit, MemoryReader } from '../memory/memory-store.ts';
import type { CallWindow } from '../execute/call-window.ts';
import { HOST_SOURCE } from '../execute/outcome-labels.ts';
import { join, joinTaint, PUBLIC } from '../policy/labels.ts';
import { callStepId } from './call-step-id.ts';
import { callWindowOf } from './call-window-lookup.ts';
import { memoryTaintGateIn } from './memory-taint-gate.ts';
import { recordMemoryStepIn, type MemoryStepOutput } from './memory-steps.ts';
import { refuseQuotaIn } from './quota-refusal.ts';
import { requireRunningIn, type SegmentContext } from './segment-context.ts';

/** What an agent's `ccos/memory.put` asks for. */
export type AgentMemoryPut = {
  key: string;
  value: unknown;
  namespace?: string | undefined;
  audience?: AgentMemoryAudience | undefined;
  ttl_ms?: number | undefined;
  /** The LLM's id for the tool call that asked (see `ccos/memory.put`). */
  call_id?: string | undefined;
};

const GET_TOOL = 'ccos__memory_get';
const PUT_TOOL = 'ccos__memory_put';
const LIST_TOOL = 'ccos__memory_list';
/** The worker's memory tool takes seconds; the channel milliseconds. */
const MS_PER_S = 1000;

/** The host's own answer (stored, found nothing, a refusal): public and trusted. */
const HOST_WORDS: MemoryStepOutput = { label: PUBLIC, taint: 'trusted', source: HOST_SOURCE };

/**
 * The memory handlers of one segment, through governed memory: the run's agent names a
 * namespace (`run`, `goal`, `session`, or one its pack shares), never a stored one, so it
 * cannot spell its way into another run's, session's or skill's items; reads are filtered by
 * audience, label and expiry, and reply with the item's label and taint; writes are labelled
 * by the window of the answer that asked for them and held to the pack's memory quotas. Each
 * call with a call id is that call's step, its output labelled (`recordMemoryStepIn`).
 */
export class SegmentMemory {
  readonly #ctx: SegmentContext;
  /** Memory writes this segment made, against its quota. */
  #memoryPuts = 0;

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

  async get(key: string, namespace = 'run', callId?: string): Promise<MemoryGetReply> {
    const { deps } = this.#ctx;
    const asked = { tool: GET_TOOL, asked: { key, namespace } };
    const result = await deps.chain.transact(async (tx) => {
      const ns = await this.#resolveIn(tx, namespace);
      if (!('stored' in ns)) {
        await recordMemoryStepIn(tx, this.#ctx, callId, { ...asked, ok: false }, HOST_WORDS);
        return ns;
      }
      const record = await deps.memory.readIn(
        tx,
        await this.#readerIn(tx, namespace),
        ns.stored,
        key,
      );
      // The item's value reaches the model with the item's own label and taint.
      const output =
        record === undefined
          ? HOST_WORDS
          : { label: record.label, taint: record.taint, source: `memory ${namespace}/${key}` };
      await recordMemoryStepIn(tx, this.#ctx, callId, { ...asked, ok: true }, output);
      return record;
    });
    if (result !== undefined && !('id' in result)) throw result;
    if (result === undefined) return { value: null };
    return { value: result.value, label: [...result.label], taint: result.taint };
  }

  /** Keys (with labels and taints, never values) of a namespace this run may see. */
  async list(namespace = 'run', prefix = '', callId?: string): Promise<MemoryListReply> {
    const { deps } = this.#ctx;
    const asked = { tool: LIST_TOOL, asked: { namespace, prefix } };
    const result = await deps.chain.transact(async (tx) => {
      const ns = await this.#resolveIn(tx, namespace);
      if (!('stored' in ns)) {
        await recordMemoryStepIn(tx, this.#ctx, callId, { ...asked, ok: false }, HOST_WORDS);
        return ns;
      }
      const items = await deps.memory.listIn(
        tx,
        await this.#readerIn(tx, namespace),
        ns.stored,
        prefix,
      );
      // Keys are text a writer chose from its own window: they carry their items' labels.
      const output =
        items.length === 0
          ? HOST_WORDS
          : {
              label: join(...items.map((i) => i.label)),
              taint: joinTaint(...items.map((i) => i.taint)),
              source: `memory ${namespace} keys`,
            };
      await recordMemoryStepIn(tx, this.#ctx, callId, { ...asked, ok: true }, output);
      return items;
    });
    if (!Array.isArray(result)) throw result;
    return {
      items: result.map((r) => ({ key: r.key, label: [...r.label], taint: r.taint })),
    };
  }

  async put(request: AgentMemoryPut): Promise<MemoryPutReply> {
    const { deps } = this.#ctx;
    const name = request.namespace ?? 'run';
    const callId = request.call_id;
    // What the value can hold: the window of the answer that asked for this write, as the
    // host recorded it then (the model saw nothing else). Untraced, the most restrictive.
    // The item keeps the window's join; the taint gate names its untrusted sources.
    const window = await callWindowOf(
      deps.labels.db,
      this.#ctx.run.id,
      callId,
      PUT_TOOL,
      modelArgumentsOf(request),
    );
    const asked = { tool: PUT_TOOL, asked: { key: request.key, namespace: name } };
    const result = await deps.chain.transact(async (tx): Promise<MemoryPutReply | AppError> => {
      const outcome = await this.#putIn(tx, request, name, window);
      await recordMemoryStepIn(
        tx,
        this.#ctx,
        callId,
        { ...asked, ok: !(outcome instanceof Error) && outcome.paused === undefined },
        HOST_WORDS,
      );
      return outcome;
    });
    if (result instanceof Error) throw result;
    return result;
  }

  async #putIn(
    tx: ChainTx,
    request: AgentMemoryPut,
    name: string,
    window: CallWindow,
  ): Promise<MemoryPutReply | AppError> {
    const { deps, grant, actor } = this.#ctx;
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
    const gate = await memoryTaintGateIn(
      tx,
      this.#ctx,
      {
        key: request.key,
        value: request.value ?? null,
        namespace: name,
        audience,
        ttl_ms: ttl,
        call_id: request.call_id,
      },
      window,
    );
    if (gate.kind === 'refused') {
      return deps.memory.refuseIn(
        tx,
        MEMORY_RULES.taintGate,
        audit,
        { namespace: name, key: request.key, reason: 'taint_gate' },
        gate.message,
      );
    }
    if (gate.kind === 'paused') return gate.reply;
    const written = await deps.memory.writeIn(
      tx,
      {
        namespace: ns.stored,
        key: request.key,
        value: request.value ?? null,
        label: window.label,
        taint: window.taint,
        source: { kind: 'agent', id: run.id, version: null },
        run_id: run.id,
        step_id: request.call_id === undefined ? null : callStepId(run.id, request.call_id),
        session_id: run.session_id,
        audience,
        audience_id: audienceId,
        expires_at: ttl === null ? null : new Date(deps.clock.now().getTime() + ttl).toISOString(),
      },
      { ...audit, actor },
    );
    if (!written.ok) return written.error;
    this.#memoryPuts += 1;
    return {};
  }
}

/**
 * The tool arguments the model gave for this write, as the worker turned them into the
 * channel's params (seconds to milliseconds): the window's record of each argument's sources
 * is kept by a hash of exactly these. A write that does not hash the same (the worker raised
 * a too-short lifetime) has its arguments attributed to the window as a whole.
 */
function modelArgumentsOf(request: AgentMemoryPut): Record<string, unknown> {
  return {
    key: request.key,
    value: request.value,
    ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    ...(request.audience === undefined ? {} : { audience: request.audience }),
    ...(request.ttl_ms === undefined ? {} : { ttl_seconds: request.ttl_ms / MS_PER_S }),
  };
}
