import type { Logger } from 'pino';
import type { OnboardingStep } from '../../../contracts/skills.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import type { SecretStore } from '../../policy/secret-store.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { MemoryStore } from '../../memory/memory-store.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillRef } from '../bindings/skill-host-deps.ts';
import type { SkillRegistry } from '../registry/skill-registry.ts';
import type { OnboardingProgress } from './onboarding-progress.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';

/** What a setup operation answered (a declarative operation's `{ status, body }`). */
export type SetupResponse = { status: number; body: unknown };

/** One kind of step: `api_call`, `human_action` or `wait_for`. */
export type StepOfKind<K extends OnboardingStep['kind']> = Extract<OnboardingStep, { kind: K }>;

/**
 * What a step runner may use: the services, the progress it saves, and the service's own
 * controls over the setup pass (stop it with a reason, poll again later, call an operation).
 */
export type StepContext = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  registry: SkillRegistry;
  approvals: ApprovalService;
  secrets: SecretStore;
  logger: Logger;
  memory: MemoryStore;
  progress: OnboardingProgress;
  /** True once the host is stopping: a runner then writes nothing more. */
  stopping: () => boolean;
  /** Calls one of the skill's operations for setup (it bypasses only the needs-setup gate). */
  call: (skillId: string, operation: string, params: unknown) => Promise<SetupResponse>;
  /** Setup stops with a visible reason; starting it again retries the step that stopped. */
  stop: (record: OnboardingRecord, reason: string) => Promise<void>;
  /** Runs the skill's next pass after `ms` (a `wait_for` poll). */
  later: (skillId: string, ms: number) => void;
  /** Shows the persisted state in the registry. */
  publish: (skillId: string) => Promise<unknown>;
};

/**
 * Runs one step of a kind. `true`: the step is done and the next one can run now; `false`:
 * setup waits (for a person, a poll, a decision) or stopped.
 */
export type StepRunner<K extends OnboardingStep['kind']> = (
  record: OnboardingRecord,
  step: StepOfKind<K>,
) => Promise<boolean>;

/** Onboarding writes and reads the skill's own memory, as the skill itself would. */
export function skillRefOf(registry: SkillRegistry, skillId: string): SkillRef {
  return { skill_id: skillId, version: registry.packageOf(skillId).manifest.version };
}

/** The skill's setup steps as its manifest declares them (none: nothing to set up). */
export function stepsOf(registry: SkillRegistry, skillId: string): readonly OnboardingStep[] {
  return registry.packageOf(skillId).manifest.onboarding ?? [];
}
