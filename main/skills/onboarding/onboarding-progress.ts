import type { ActorContext } from '../../actor-context.ts';
import { auditedBy } from '../../actor-context.ts';
import type { CausalChain, ChainTx } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillRegistry } from '../registry/skill-registry.ts';
import { OnboardingRepository, type OnboardingRecord } from './onboarding-repository.ts';

export type OnboardingProgressDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  registry: SkillRegistry;
  /** True once the host is stopping: progress is then no longer written. */
  stopping: () => boolean;
};

/** What a `skill.onboarding` chain entry says happened. */
export type AuditNote = {
  event:
    | 'started'
    | 'step_completed'
    | 'waiting'
    | 'stopped'
    | 'operational'
    | 'call_started'
    | 'call_retry_approved';
  step_id?: string | null;
};

/** The host acting on its own (not for a person): setup's steps and polls. */
export const HOST: ActorContext = { actor: 'host' };

/**
 * A skill's setup progress as it is kept: the `skill_onboarding` row and the
 * `skill.onboarding` chain entry that records each change, always written together.
 */
export class OnboardingProgress {
  readonly #deps: OnboardingProgressDeps;

  constructor(deps: OnboardingProgressDeps) {
    this.#deps = deps;
  }

  get(skillId: string): Promise<OnboardingRecord | undefined> {
    return new OnboardingRepository(this.#deps.db).get(skillId);
  }

  /** The record waiting on `approvalId`, read in the decision's transaction. */
  findByApprovalIn(tx: ChainTx, approvalId: string): Promise<OnboardingRecord | undefined> {
    return new OnboardingRepository(tx.db).findByApproval(approvalId);
  }

  /** Saves in a transaction of its own, as the host; nothing once the host is stopping. */
  save(record: OnboardingRecord, audit: AuditNote): Promise<void> {
    if (this.#deps.stopping()) return Promise.resolve();
    return this.#deps.chain.transact((tx) => this.saveIn(tx, record, HOST, audit));
  }

  /** Persists progress and its `skill.onboarding` chain entry together (names, never values). */
  async saveIn(
    tx: ChainTx,
    record: OnboardingRecord,
    ctx: ActorContext,
    audit: AuditNote,
  ): Promise<void> {
    await new OnboardingRepository(tx.db).save(record, this.#deps.clock.now().toISOString());
    const skill = this.#deps.registry.find(record.skill_id);
    await tx.append({
      event_type: 'skill.onboarding',
      ...auditedBy(ctx),
      run_id: record.run_id,
      capability_id: record.skill_id,
      capability_version: skill?.version ?? null,
      data: {
        skill_id: record.skill_id,
        event: audit.event,
        step_id: audit.step_id ?? null,
        state: record.state,
        step: record.step,
        pending_approval_id: record.pending_approval_id,
        reason: record.reason,
      },
    });
  }
}

/** A skill's progress before its setup was ever started. */
export function emptyRecord(skillId: string): OnboardingRecord {
  return {
    skill_id: skillId,
    state: 'NEEDS_SETUP',
    step: 0,
    completed: [],
    pending_approval_id: null,
    pending_secret: null,
    run_id: null,
    reason: null,
    step_started_at: null,
    call_started_at: null,
  };
}
