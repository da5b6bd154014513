import type { Logger } from 'pino';
import type { OnboardingStep, SkillOnboarding } from '../../../contracts/skills.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import type { Disposable } from '../../disposable.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { SecretStore } from '../../policy/secret-store.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { HostHeldRuns } from '../../runs/host-held-runs.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillRegistry } from '../registry/skill-registry.ts';
import { ApiCallStep } from './api-call-step.ts';
import { checkHumanAnswer, formOf } from './check-human-answer.ts';
import { HumanActionStep } from './human-action-step.ts';
import { emptyRecord, HOST, OnboardingProgress } from './onboarding-progress.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';
import { viewOf } from './onboarding-view.ts';
import { SetupPasses } from './setup-passes.ts';
import { stepsOf, type SetupResponse, type StepContext } from './step-context.ts';
import { WaitForStep } from './wait-for-step.ts';
import type { MemoryStore } from '../../memory/memory-store.ts';

export type OnboardingServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  registry: SkillRegistry;
  /** The run setup's approvals hang on: onboarding holds and releases it, never moves it. */
  heldRuns: HostHeldRuns;
  approvals: ApprovalService;
  secrets: SecretStore;
  logger: Logger;
  /** Governed memory: setup's facts go to the skill's own namespace through it. */
  memory: MemoryStore;
};

/** The event type the internal setup run "waits for": no agent ever resumes it. */
const SETUP_WAITING_FOR = 'ccos.skill.onboarding';

/**
 * Drives skills' onboarding (ARCHITECTURE.md §7; docs/declarative-skills-internals.md "Onboarding"):
 * the host — never an agent — runs `api_call`, `human_action` and `wait_for` steps in order
 * once an admin starts setup. Progress is persisted before each next step, so a restart
 * resumes where it was and never repeats a side effect (a register call is made once).
 * Approvals hang on one internal run per onboarding, held by `HostHeldRuns` (parked, so no
 * agent is ever handed it); onboarding never moves a run through the state machine itself.
 *
 * This class runs the passes; each step kind has its runner (`ApiCallStep`,
 * `HumanActionStep`, `WaitForStep`), and `OnboardingProgress` keeps what they did.
 */
export class OnboardingService implements Disposable {
  readonly #deps: OnboardingServiceDeps;
  readonly #passes: SetupPasses;
  readonly #progress: OnboardingProgress;
  readonly #apiCall: ApiCallStep;
  readonly #humanAction: HumanActionStep;
  readonly #waitFor: WaitForStep;
  readonly #registrations: Disposable[] = [];

  constructor(deps: OnboardingServiceDeps) {
    this.#deps = deps;
    this.#passes = new SetupPasses(deps.logger);
    const stopping = (): boolean => this.#passes.disposed;
    this.#progress = new OnboardingProgress({ ...deps, stopping });
    const ctx: StepContext = {
      ...deps,
      progress: this.#progress,
      stopping,
      call: (skillId, operation, params) => this.#call(skillId, operation, params),
      stop: (record, reason) => this.#stop(record, reason),
      later: (skillId, ms) => {
        this.#passes.later(skillId, ms, () => this.#kick(skillId));
      },
      publish: (skillId) => this.#publish(skillId),
    };
    this.#apiCall = new ApiCallStep(ctx);
    this.#humanAction = new HumanActionStep(ctx);
    this.#waitFor = new WaitForStep(ctx);
  }

  /**
   * Registers the approval hooks this service owns (`secret_write`, `human_action`) and
   * follows installs; dispose the service to undo it.
   */
  register(): this {
    const { approvals, registry } = this.#deps;
    this.#registrations.push(
      approvals.registerAnswerValidator('human_action', async (approval, answer) => {
        await Promise.resolve();
        const form = formOf(approval.request);
        if (form !== undefined) checkHumanAnswer(form, answer);
      }),
      approvals.registerDecisionEffect('secret_write', async (tx, approval, ctx) => {
        this.#afterDecision(await this.#apiCall.onSecretDecision(tx, approval, ctx));
      }),
      approvals.registerDecisionEffect('human_action', async (tx, approval, ctx) => {
        this.#afterDecision(await this.#humanAction.onDecision(tx, approval, ctx));
      }),
      // Only the unknown-outcome question is an `operation` approval of setup's run; the
      // pipeline's own operation approvals find no onboarding record and are left alone.
      approvals.registerDecisionEffect('operation', async (tx, approval, ctx) => {
        this.#afterDecision(await this.#apiCall.onUnknownCallDecision(tx, approval, ctx));
      }),
      registry.subscribe((change) => {
        if (change.kind === 'loaded' || change.kind === 'replaced')
          void this.#publish(change.skill_id).catch((err: unknown) => {
            this.#deps.logger.error({ err, skill_id: change.skill_id }, 'onboarding state');
          });
      }),
    );
    return this;
  }

  /** At start-up: shows every loaded skill's persisted state and resumes setups in progress. */
  async restore(): Promise<void> {
    for (const skill of this.#deps.registry.list()) {
      if (this.#steps(skill.skill_id).length === 0) continue;
      const record = await this.#publish(skill.skill_id);
      if (record?.run_id !== null && record?.run_id !== undefined) void this.#kick(skill.skill_id);
    }
  }

  /** The skill's onboarding as the API shows it. */
  async view(skillId: string): Promise<SkillOnboarding> {
    this.#requireSkill(skillId);
    if (this.#steps(skillId).length === 0) return { state: 'READY', step: 0 };
    return viewOf(await this.#progress.get(skillId), this.#steps(skillId));
  }

  /**
   * Starts (or retries, after a denial, error or timeout) a skill's setup on an admin's
   * behalf and runs it as far as it can go without a person; returns the state reached.
   */
  async start(skillId: string, ctx: ActorContext): Promise<SkillOnboarding> {
    const skill = this.#requireSkill(skillId);
    const steps = this.#steps(skillId);
    if (steps.length === 0) return { state: 'READY', step: 0 };
    await this.#passes.queue(skillId, async () => {
      const before = await this.#progress.get(skillId);
      if (before?.state === 'OPERATIONAL') return;
      await this.#deps.chain.transact(async (tx) => {
        // The admin's run: approvals need one, and the audit trail names who started setup.
        const runId = await this.#deps.heldRuns.holdIn(
          tx,
          before?.run_id ?? null,
          {
            goal: `Set up ${skill.name}`,
            started: 'skill setup started',
            parked: `the host runs ${skillId}'s setup steps; no agent works on this run`,
            waiting_for: SETUP_WAITING_FOR,
          },
          { ...ctx, origin: 'api' },
        );
        const record: OnboardingRecord = {
          ...(before ?? emptyRecord(skillId)),
          run_id: runId,
          reason: null,
        };
        record.state =
          pendingKind(record, steps) === 'human_action' ? 'PENDING_HUMAN_ACTION' : 'NEEDS_SETUP';
        await this.#progress.saveIn(tx, record, ctx, { event: 'started' });
      });
      await this.#publish(skillId);
      this.#passes.cancel(skillId);
      await this.#advance(skillId);
    });
    return this.view(skillId);
  }

  /** An external trigger: polls a waiting `wait_for` step now instead of at its next tick. */
  async poll(skillId: string): Promise<SkillOnboarding> {
    this.#requireSkill(skillId);
    this.#passes.cancel(skillId);
    await this.#kick(skillId);
    return this.view(skillId);
  }

  /** Stops the timers and waits for the passes in flight (they write nothing once disposed). */
  async dispose(): Promise<void> {
    this.#passes.close();
    for (const r of this.#registrations.splice(0)) await r.dispose();
    await this.#passes.dispose();
  }

  /** Runs steps until one has to wait (for a person, a poll, or a decision) or setup ends. */
  async #advance(skillId: string): Promise<void> {
    for (;;) {
      if (this.#passes.disposed) return;
      const record = await this.#progress.get(skillId);
      const steps = this.#steps(skillId);
      if (record?.run_id === null || record?.run_id === undefined) return;
      if (record.state === 'OPERATIONAL' || record.reason !== null) return;
      if (record.pending_approval_id !== null) return;
      const step = steps[record.step];
      if (step === undefined) {
        await this.#finish(record);
        return;
      }
      let next: boolean;
      try {
        next = await this.#runStep(record, step);
      } catch (e) {
        // #stop writes nothing once the host is stopping (the failure may be the shutdown).
        const why = isAppError(e) ? `${e.code}: ${e.message}` : 'internal error';
        if (!isAppError(e)) this.#deps.logger.error({ err: e, skill_id: skillId }, 'onboarding');
        await this.#stop(record, `step ${step.id} failed (${why})`);
        return;
      }
      await this.#publish(skillId);
      if (!next) return;
    }
  }

  /** The step's runner, by its kind. */
  #runStep(record: OnboardingRecord, step: OnboardingStep): Promise<boolean> {
    switch (step.kind) {
      case 'api_call':
        return this.#apiCall.run(record, step);
      case 'human_action':
        return this.#humanAction.run(record, step);
      case 'wait_for':
        return this.#waitFor.run(record, step);
    }
  }

  async #finish(record: OnboardingRecord): Promise<void> {
    await this.#deps.chain.transact(async (tx) => {
      const reason = `${record.skill_id} is set up`;
      await this.#deps.heldRuns.releaseIn(tx, record.run_id ?? '', reason, HOST);
      await this.#progress.saveIn(
        tx,
        { ...record, state: 'OPERATIONAL', pending_approval_id: null, reason: null },
        HOST,
        { event: 'operational' },
      );
    });
    await this.#publish(record.skill_id);
  }

  /** Setup stops with a visible reason; `start` again retries from the step that stopped. */
  async #stop(record: OnboardingRecord, reason: string): Promise<void> {
    if (this.#passes.disposed) return;
    this.#deps.logger.warn({ skill_id: record.skill_id, reason }, 'skill setup stopped');
    await this.#progress.save({ ...record, state: 'NEEDS_SETUP', reason }, { event: 'stopped' });
    await this.#publish(record.skill_id);
  }

  /** Continues once the decision has committed (the next read waits for its transaction). */
  #afterDecision(skillId: string | undefined): void {
    if (skillId === undefined) return;
    setImmediate(() => {
      void this.#kick(skillId);
    });
  }

  #kick(skillId: string): Promise<void> {
    return this.#passes.queue(skillId, async () => {
      await this.#publish(skillId);
      await this.#advance(skillId);
    });
  }

  async #call(skillId: string, operation: string, params: unknown): Promise<SetupResponse> {
    // The host acting for the admin who started setup: it bypasses only the needs-setup gate.
    const output = (await this.#deps.registry.call(skillId, operation, params, {
      onboarding: true,
    })) as SetupResponse;
    return { status: output.status, body: output.body };
  }

  /** Reads the persisted state into the registry (which gates calls and lists it). */
  async #publish(skillId: string): Promise<OnboardingRecord | undefined> {
    if (this.#passes.disposed || this.#deps.registry.find(skillId) === undefined) return undefined;
    const record = await this.#progress.get(skillId);
    if (this.#deps.registry.find(skillId) === undefined) return record;
    this.#deps.registry.setOnboarding(skillId, viewOf(record, this.#steps(skillId)));
    return record;
  }

  #steps(skillId: string): readonly OnboardingStep[] {
    return stepsOf(this.#deps.registry, skillId);
  }

  #requireSkill(skillId: string): { name: string } {
    const skill = this.#deps.registry.find(skillId);
    if (skill === undefined) throw new AppError('NOT_FOUND', `no skill ${skillId} is installed`);
    return skill;
  }
}

/** The kind of step a pending approval belongs to, if setup waits on one. */
function pendingKind(
  record: OnboardingRecord,
  steps: readonly OnboardingStep[],
): OnboardingStep['kind'] | undefined {
  return record.pending_approval_id === null ? undefined : steps[record.step]?.kind;
}
