import type { Taint } from '../../../contracts/labels.ts';
import type { CausalChain, ChainTx } from '../../chain/causal-chain.ts';
import { AppError } from '../../errors.ts';
import { runAudienceIn, type AudienceContext } from '../../memory/memory-audience.ts';
import { EVERY_STORABLE_LABEL } from '../../memory/memory-policy.ts';
import type { MemoryAudit, MemoryStore, MemoryWriteOutcome } from '../../memory/memory-store.ts';
import { UNKNOWN } from '../../policy/labels.ts';
import { skillMemoryNamespace } from '../../runs/skill-memory-namespace.ts';
import { skillAuditEntry } from './skill-audit.ts';
import type { SkillAuditEvent, SkillMemory, SkillRef } from './skill-host-deps.ts';
import type { SkillCallContext } from '../sandbox/skill-sandbox.ts';

/**
 * A memory item as skills and their onboarding store it. `namespace` is the one the skill
 * declared; it is stored under the skill's own prefix (`skill:<id>:<namespace>`), so a skill
 * declaring a namespace another skill uses gets an empty one, never the other's data.
 */
export type SkillMemoryItem = {
  namespace: string;
  key: string;
  value: unknown;
  run_id: string | null;
  step_id: string | null;
  /** `trusted` only for what the person typed (a setup answer); a skill's data is untrusted. */
  taint: Taint;
};

/**
 * Reads one item of the skill's own (null when absent or withheld) for a reader in
 * `audience`: a skill in a run of one session never reads what it wrote in another's.
 */
export async function readSkillMemoryIn(
  tx: ChainTx,
  memory: MemoryStore,
  owner: SkillRef,
  namespace: string,
  key: string,
  audience: AudienceContext,
  audit: MemoryAudit,
): Promise<unknown> {
  const record = await memory.readIn(
    tx,
    { audience, clearance: EVERY_STORABLE_LABEL, audit },
    skillMemoryNamespace(owner.skill_id, namespace),
    key,
  );
  return record?.value ?? null;
}

/**
 * Writes one item of the skill's own in `tx`, with its `memory.write` (under `audit`). In a
 * run, the item's audience is the run's session; outside any (onboarding), whoever the
 * skill's namespace admits. Skills declare no output labels yet, so an item is labelled as
 * unknown personal data — the most restrictive PII, never less than what it might be.
 */
export async function writeSkillMemoryIn(
  tx: ChainTx,
  memory: MemoryStore,
  owner: SkillRef,
  item: SkillMemoryItem,
  sessionId: string | null,
  audit: MemoryAudit,
): Promise<MemoryWriteOutcome> {
  return memory.writeIn(
    tx,
    {
      namespace: skillMemoryNamespace(owner.skill_id, item.namespace),
      key: item.key,
      value: item.value,
      label: UNKNOWN,
      taint: item.taint,
      source: { kind: 'skill', id: owner.skill_id, version: owner.version },
      run_id: item.run_id,
      step_id: item.step_id,
      session_id: sessionId,
      audience: sessionId === null ? 'namespace' : 'session',
      audience_id: sessionId ?? '',
      expires_at: null,
    },
    audit,
  );
}

/** The chain envelope of a binding call, for memory entries and denials. */
function callAudit(owner: SkillRef, call: SkillCallContext): MemoryAudit {
  const { envelope } = call;
  return {
    actor: `skill:${owner.skill_id}`,
    session_id: envelope.session_id,
    run_id: envelope.run_id,
    step_id: envelope.step_id,
    correlation_id: envelope.correlation_id,
    capability_id: owner.skill_id,
    capability_version: owner.version,
    ...(envelope.policy_pack_version === undefined
      ? {}
      : { policy_pack_version: envelope.policy_pack_version }),
    data: { binding: 'memory.get', operation_id: call.operation_id },
  };
}

/**
 * `ccos.memory` over governed memory. Values cross the isolate boundary as JSON; each write
 * commits with its `memory.write` chain entry, and a refused one with its `policy.decision`.
 */
export class StoreSkillMemory implements SkillMemory {
  readonly #deps: { chain: CausalChain; memory: MemoryStore };

  constructor(deps: { chain: CausalChain; memory: MemoryStore }) {
    this.#deps = deps;
  }

  get(owner: SkillRef, namespace: string, key: string, call: SkillCallContext): Promise<unknown> {
    return this.#deps.chain.transact(async (tx) =>
      readSkillMemoryIn(
        tx,
        this.#deps.memory,
        owner,
        namespace,
        key,
        await runAudienceIn(tx, call.envelope.run_id),
        callAudit(owner, call),
      ),
    );
  }

  /** Writes the item and its `memory.write` entry in one transaction: both or neither. */
  async put(
    owner: SkillRef,
    namespace: string,
    key: string,
    value: unknown,
    audit: SkillAuditEvent,
  ): Promise<void> {
    const { envelope } = audit.call;
    const entry = skillAuditEntry(audit);
    if (entry === undefined) throw new AppError('INTERNAL', 'a memory write has an audit entry');
    // The binding's own entry becomes the item's `memory.write` (or its refusal).
    const base: MemoryAudit = {
      actor: entry.actor,
      session_id: entry.session_id ?? null,
      run_id: entry.run_id ?? null,
      step_id: entry.step_id ?? null,
      correlation_id: entry.correlation_id ?? null,
      capability_id: entry.capability_id ?? null,
      capability_version: entry.capability_version ?? null,
      ...(entry.policy_pack_version === undefined
        ? {}
        : { policy_pack_version: entry.policy_pack_version }),
      data: entry.data ?? {},
    };
    const outcome = await this.#deps.chain.transact((tx) =>
      writeSkillMemoryIn(
        tx,
        this.#deps.memory,
        owner,
        {
          namespace,
          key,
          value,
          run_id: envelope.run_id,
          step_id: envelope.step_id,
          taint: 'untrusted',
        },
        envelope.session_id,
        base,
      ),
    );
    if (!outcome.ok) throw outcome.error;
  }
}
