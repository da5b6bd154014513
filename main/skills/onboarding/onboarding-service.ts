import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Approval } from '../../../contracts/approvals.ts';
import type { OnboardingStep, SkillOnboarding } from '../../../contracts/skills.ts';
import type { CausalChain, ChainTx } from '../../chain/causal-chain.ts';
import type { Clock } from '../../clock.ts';
import type { Disposable } from '../../disposable.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { SecretStore } from '../../policy/secret-store.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { RunService } from '../../runs/run-service.ts';
import { isTerminal } from '../../runs/transitions.ts';
import type { Db } from '../../store/schema.ts';
import type { SkillRegistry } from '../registry/skill-registry.ts';
import type { SkillRef } from '../bindings/skill-host-deps.ts';
import { readSkillMemory, writeSkillMemory } from '../bindings/store-skill-memory.ts';
import { checkHumanAnswer, formOf } from './check-human-answer.ts';
import { applyJsonLogic } from '../../json-logic.ts';
import { OnboardingRepository, type OnboardingRecord } from './onboarding-repository.ts';
import { parseStoreTarget, PLACEHOLDER, resolvePointer } from '../manifest/store-target.ts';
import { auditedBy } from '../../actor-context.ts';

export type OnboardingServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  registry: SkillRegistry;
  runs: RunService;
  approvals: ApprovalService;
  secrets: SecretStore;
  logger: Logger;
};

/** The event type the internal setup run "waits for": no agent ever resumes it. */
const SETUP_WAITING_FOR = 'ccos.skill.onboarding';
const HOST: ActorContext = { actor: 'host' };

type Response = { status: number; body: unknown };

/**
 * Drives skills' onboarding (ARCHITECTURE.md §7; docs/declarative-skills-internals.md "Onboarding"):
 * the host — never an agent — runs `api_call`, `human_action` and `wait_for` steps in order
 * once an admin starts setup. Progress is persisted before each next step, so a restart
 * resumes where it was and never repeats a side effect (a register call is made once).
 * Approvals hang on one internal run per onboarding, parked in `paused_external_event` so
 * neither the supervisor nor start-up recovery ever hands it to an agent.
 */
export class OnboardingService implements Disposable {
  readonly #deps: OnboardingServiceDeps;
  /** Per skill: the pass in progress, so two triggers never run a step twice at once. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #registrations: Disposable[] = [];
  #disposed = false;

  constructor(deps: OnboardingServiceDeps) {
    this.#deps = deps;
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
      approvals.registerDecisionEffect('secret_write', (tx, approval, ctx) =>
        this.#onSecretDecision(tx, approval, ctx),
      ),
      approvals.registerDecisionEffect('human_action', (tx, approval, ctx) =>
        this.#onHumanDecision(tx, approval, ctx),
      ),
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
    return viewOf(await this.#repo().get(skillId), this.#steps(skillId));
  }

  /**
   * Starts (or retries, after a denial, error or timeout) a skill's setup on an admin's
   * behalf and runs it as far as it can go without a person; returns the state reached.
   */
  async start(skillId: string, ctx: ActorContext): Promise<SkillOnboarding> {
    const skill = this.#requireSkill(skillId);
    const steps = this.#steps(skillId);
    if (steps.length === 0) return { state: 'READY', step: 0 };
    await this.#queue(skillId, async () => {
      const before = await this.#repo().get(skillId);
      if (before?.state === 'OPERATIONAL') return;
      await this.#deps.chain.transact(async (tx) => {
        let runId = before?.run_id ?? null;
        const run = runId === null ? undefined : await this.#deps.runs.getIn(tx, runId);
        if (run === undefined || isTerminal(run.state)) {
          // The admin's run: approvals need one, and the audit trail names who started setup.
          const created = await this.#deps.runs.createIn(
            tx,
            { goal: `Set up ${skill.name}` },
            { ...ctx, origin: 'api' },
          );
          await this.#deps.runs.transitionIn(tx, created.id, 'running', {
            ...ctx,
            reason: 'skill setup started',
          });
          await this.#deps.runs.transitionIn(tx, created.id, 'paused_external_event', {
            ...ctx,
            reason: `the host runs ${skillId}'s setup steps; no agent works on this run`,
            waiting_for: SETUP_WAITING_FOR,
          });
          runId = created.id;
        }
        const record: OnboardingRecord = {
          ...(before ?? emptyRecord(skillId)),
          run_id: runId,
          reason: null,
        };
        record.state =
          this.#pendingKind(record, steps) === 'human_action'
            ? 'PENDING_HUMAN_ACTION'
            : 'NEEDS_SETUP';
        await this.#saveIn(tx, record, ctx, { event: 'started' });
      });
      await this.#publish(skillId);
      this.#cancelTimer(skillId);
      await this.#advance(skillId);
    });
    return this.view(skillId);
  }

  /** An external trigger: polls a waiting `wait_for` step now instead of at its next tick. */
  async poll(skillId: string): Promise<SkillOnboarding> {
    this.#requireSkill(skillId);
    this.#cancelTimer(skillId);
    await this.#kick(skillId);
    return this.view(skillId);
  }

  /** Stops the timers and waits for the passes in flight (they write nothing once disposed). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const r of this.#registrations.splice(0)) await r.dispose();
    for (const skillId of [...this.#timers.keys()]) this.#cancelTimer(skillId);
    await Promise.allSettled([...this.#queues.values()]);
  }

  // --- the steps -------------------------------------------------------------------------

  /** Runs steps until one has to wait (for a person, a poll, or a decision) or setup ends. */
  async #advance(skillId: string): Promise<void> {
    for (;;) {
      if (this.#disposed) return;
      const record = await this.#repo().get(skillId);
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
        next =
          step.kind === 'api_call'
            ? await this.#apiCall(record, step)
            : step.kind === 'human_action'
              ? await this.#humanAction(record, step)
              : await this.#waitFor(record, step);
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

  async #apiCall(
    record: OnboardingRecord,
    step: Extract<OnboardingStep, { kind: 'api_call' }>,
  ): Promise<boolean> {
    const response = await this.#call(record.skill_id, step.operation, step.params);
    if (this.#disposed) return false;
    if (response.status < 200 || response.status > 299) {
      await this.#stop(
        record,
        `step ${step.id}: ${step.operation} answered HTTP ${response.status}`,
      );
      return false;
    }
    const values: { to: string; value: unknown }[] = [];
    for (const target of step.store) {
      const value = resolvePointer(response.body, target.from);
      if (value === undefined) {
        await this.#stop(record, `step ${step.id}: the response has no ${target.from}`);
        return false;
      }
      values.push({ to: target.to, value });
    }
    // From here the response exists only in this process: it is stored (secrets encrypted,
    // under a temporary name) together with the step's progress, in one transaction, so a
    // restart can never call a non-idempotent operation (register) a second time.
    await this.#deps.chain.transact(async (tx) => {
      const now = this.#deps.clock.now();
      const next: OnboardingRecord = { ...record };
      for (const { to, value } of values) {
        const target = parseStoreTarget(to);
        if (target?.kind === 'memory') {
          await writeSkillMemory(
            tx.db,
            this.#skillRef(record.skill_id),
            { namespace: target.namespace, key: target.key, value, run_id: null, step_id: null },
            now,
          );
        } else if (target?.kind === 'secret') {
          const temp = pendingSecretName(record.skill_id, step.id, target.name);
          const text = typeof value === 'string' ? value : JSON.stringify(value);
          await this.#deps.secrets.setIn(tx, temp, text, HOST);
          // A person approving "store it" must know when that destroys a value already there
          // (another skill's key, or one they set by hand).
          const replaces =
            (await tx.db
              .selectFrom('secrets')
              .select('name')
              .where('name', '=', target.name)
              .executeTakeFirst()) !== undefined;
          const approval = await this.#deps.approvals.requestIn(
            tx,
            {
              run_id: record.run_id ?? '',
              step_id: `onboarding:${step.id}`,
              kind: 'secret_write',
              rule_id: 'onboarding.secret_write',
              scope: target.name,
              justification: `Setting up ${record.skill_id}: ${step.operation} returned a value for the secret ${target.name}. ${
                replaces
                  ? `Approving REPLACES the value already stored as ${target.name}, which is then lost.`
                  : 'Approve to store it.'
              } The value is never shown.`,
              permission_diff: [
                replaces
                  ? { permission: `secret:${target.name}`, from: 'set', to: 'replaced' }
                  : { permission: `secret:${target.name}`, to: 'written' },
              ],
              request: {
                skill_id: record.skill_id,
                step: step.id,
                operation: step.operation,
                secret: target.name,
                replaces_existing: replaces,
              },
            },
            HOST,
          );
          next.pending_approval_id = approval.id;
          next.pending_secret = { name: target.name, temp };
        }
      }
      if (next.pending_approval_id === null) {
        next.completed = [...record.completed, { id: step.id, outcome: 'stored' }];
        next.step = record.step + 1;
        await this.#saveIn(tx, next, HOST, { event: 'step_completed', step_id: step.id });
      } else {
        await this.#saveIn(tx, next, HOST, { event: 'waiting', step_id: step.id });
      }
    });
    return true;
  }

  async #humanAction(
    record: OnboardingRecord,
    step: Extract<OnboardingStep, { kind: 'human_action' }>,
  ): Promise<boolean> {
    let instructions = step.instructions;
    for (const match of step.instructions.matchAll(PLACEHOLDER)) {
      const [text, , ns, key] = match;
      // Only memory values (checked at load): a secret can never be put in front of a person.
      const value = await readSkillMemory(
        this.#deps.db,
        this.#skillRef(record.skill_id),
        ns ?? '',
        key ?? '',
      );
      instructions = instructions.replace(
        text,
        typeof value === 'string' ? value : JSON.stringify(value),
      );
    }
    await this.#deps.chain.transact(async (tx) => {
      const approval = await this.#deps.approvals.requestIn(
        tx,
        {
          run_id: record.run_id ?? '',
          step_id: `onboarding:${step.id}`,
          kind: 'human_action',
          rule_id: 'onboarding.human_action',
          scope: `${record.skill_id}:${step.id}`,
          justification: `Setting up ${record.skill_id} needs a person: ${instructions}`,
          permission_diff: [],
          request: {
            skill_id: record.skill_id,
            step: step.id,
            instructions,
            form: step.fields.map((f) => ({
              name: f.name,
              type: f.type,
              description: f.description,
              required: true,
              enum: null,
            })),
          },
        },
        HOST,
      );
      await this.#saveIn(
        tx,
        { ...record, state: 'PENDING_HUMAN_ACTION', pending_approval_id: approval.id },
        HOST,
        { event: 'waiting', step_id: step.id },
      );
    });
    return false;
  }

  async #waitFor(
    record: OnboardingRecord,
    step: Extract<OnboardingStep, { kind: 'wait_for' }>,
  ): Promise<boolean> {
    const now = this.#deps.clock.now();
    let current = record;
    if (record.step_started_at === null) {
      current = { ...record, step_started_at: now.toISOString() };
      await this.#save(current, { event: 'waiting', step_id: step.id });
    }
    let holds = false;
    try {
      const response = await this.#call(record.skill_id, step.operation, step.params);
      holds = Boolean(applyJsonLogic(step.until, response));
    } catch (e) {
      // A failed poll is a "not yet": the deadline, not one network error, ends the wait.
      if (!isAppError(e)) throw e;
      this.#deps.logger.warn({ skill_id: record.skill_id, code: e.code }, 'onboarding poll failed');
    }
    if (this.#disposed) return false;
    if (holds) {
      await this.#save(
        {
          ...current,
          step: current.step + 1,
          step_started_at: null,
          completed: [...current.completed, { id: step.id, outcome: 'satisfied' }],
        },
        { event: 'step_completed', step_id: step.id },
      );
      return true;
    }
    const started = Date.parse(current.step_started_at ?? now.toISOString());
    if (this.#deps.clock.now().getTime() - started >= step.timeout_s * 1000) {
      await this.#stop(
        { ...current, step_started_at: null },
        `step ${step.id}: ${step.operation} did not report the expected state within ${step.timeout_s} s`,
      );
      return false;
    }
    this.#schedule(record.skill_id, step.every_s * 1000);
    return false;
  }

  async #finish(record: OnboardingRecord): Promise<void> {
    await this.#deps.chain.transact(async (tx) => {
      const runId = record.run_id ?? '';
      const run = await this.#deps.runs.getIn(tx, runId);
      if (run.state === 'paused_external_event') {
        const reason = `${record.skill_id} is set up`;
        await this.#deps.runs.transitionIn(tx, runId, 'pending', { ...HOST, reason });
        await this.#deps.runs.transitionIn(tx, runId, 'running', { ...HOST, reason });
        await this.#deps.runs.transitionIn(tx, runId, 'done', { ...HOST, reason });
      }
      await this.#saveIn(
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
    if (this.#disposed) return;
    this.#deps.logger.warn({ skill_id: record.skill_id, reason }, 'skill setup stopped');
    await this.#save({ ...record, state: 'NEEDS_SETUP', reason }, { event: 'stopped' });
    await this.#publish(record.skill_id);
  }

  // --- decisions (inside the decision's transaction) -------------------------------------

  async #onSecretDecision(tx: ChainTx, approval: Approval, ctx: ActorContext): Promise<void> {
    const record = await new OnboardingRepository(tx.db).findByApproval(approval.id);
    if (record === undefined || record.pending_secret === null) return;
    const step = this.#steps(record.skill_id)[record.step];
    const pending = record.pending_secret;
    const cleared = { ...record, pending_approval_id: null, pending_secret: null };
    if (approval.state === 'approved') {
      await this.#deps.secrets.renameIn(tx, pending.temp, pending.name, ctx);
      await this.#saveIn(
        tx,
        {
          ...cleared,
          step: record.step + 1,
          completed: [...record.completed, { id: step?.id ?? '?', outcome: 'secret_stored' }],
        },
        ctx,
        { event: 'step_completed', step_id: step?.id ?? null },
      );
    } else {
      // Denied (or narrowed, which a secret cannot be): the value is destroyed.
      await this.#deps.secrets.discardIn(tx, pending.temp, ctx);
      const reason = `storing secret ${pending.name} was not approved; setup stopped`;
      await this.#saveIn(tx, { ...cleared, state: 'NEEDS_SETUP', reason }, ctx, {
        event: 'stopped',
      });
    }
    this.#afterDecision(record.skill_id);
  }

  /** Onboarding writes and reads the skill's own memory, as the skill itself would. */
  #skillRef(skillId: string): SkillRef {
    return { skill_id: skillId, version: this.#deps.registry.packageOf(skillId).manifest.version };
  }

  async #onHumanDecision(tx: ChainTx, approval: Approval, ctx: ActorContext): Promise<void> {
    const record = await new OnboardingRepository(tx.db).findByApproval(approval.id);
    if (record === undefined) return;
    const step = this.#steps(record.skill_id)[record.step];
    if (step?.kind !== 'human_action') return;
    const cleared = { ...record, pending_approval_id: null, state: 'NEEDS_SETUP' as const };
    if (approval.state === 'approved') {
      const namespace =
        step.namespace ??
        this.#deps.registry.packageOf(record.skill_id).manifest.permissions.memory_namespaces[0];
      const now = this.#deps.clock.now();
      for (const field of step.fields) {
        const item = {
          namespace: namespace ?? record.skill_id,
          key: field.name,
          value: approval.answer?.[field.name],
          run_id: null,
          step_id: null,
        };
        await writeSkillMemory(tx.db, this.#skillRef(record.skill_id), item, now);
      }
      await this.#saveIn(
        tx,
        {
          ...cleared,
          step: record.step + 1,
          completed: [...record.completed, { id: step.id, outcome: 'answered' }],
        },
        ctx,
        { event: 'step_completed', step_id: step.id },
      );
    } else {
      const reason = `a person declined step ${step.id}; setup stopped`;
      await this.#saveIn(tx, { ...cleared, reason }, ctx, { event: 'stopped' });
    }
    this.#afterDecision(record.skill_id);
  }

  /** Continues once the decision has committed (the next read waits for its transaction). */
  #afterDecision(skillId: string): void {
    setImmediate(() => {
      void this.#kick(skillId);
    });
  }

  // --- plumbing --------------------------------------------------------------------------

  #kick(skillId: string): Promise<void> {
    return this.#queue(skillId, async () => {
      await this.#publish(skillId);
      await this.#advance(skillId);
    });
  }

  #queue(skillId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#queues.get(skillId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => (this.#disposed ? undefined : work()));
    const settled = next.catch((err: unknown) => {
      this.#deps.logger.error({ err, skill_id: skillId }, 'skill setup pass failed');
    });
    this.#queues.set(skillId, settled);
    void settled.then(() => {
      if (this.#queues.get(skillId) === settled) this.#queues.delete(skillId);
    });
    return next;
  }

  #schedule(skillId: string, ms: number): void {
    this.#cancelTimer(skillId);
    if (this.#disposed) return;
    this.#timers.set(
      skillId,
      setTimeout(() => {
        this.#timers.delete(skillId);
        void this.#kick(skillId);
      }, ms),
    );
  }

  #cancelTimer(skillId: string): void {
    const timer = this.#timers.get(skillId);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(skillId);
  }

  async #call(skillId: string, operation: string, params: unknown): Promise<Response> {
    // The host acting for the admin who started setup: it bypasses only the needs-setup gate.
    const output = (await this.#deps.registry.call(skillId, operation, params, {
      onboarding: true,
    })) as Response;
    return { status: output.status, body: output.body };
  }

  /** Reads the persisted state into the registry (which gates calls and lists it). */
  async #publish(skillId: string): Promise<OnboardingRecord | undefined> {
    if (this.#disposed || this.#deps.registry.find(skillId) === undefined) return undefined;
    const record = await this.#repo().get(skillId);
    if (this.#deps.registry.find(skillId) === undefined) return record;
    this.#deps.registry.setOnboarding(skillId, viewOf(record, this.#steps(skillId)));
    return record;
  }

  #pendingKind(record: OnboardingRecord, steps: readonly OnboardingStep[]): string | undefined {
    return record.pending_approval_id === null ? undefined : steps[record.step]?.kind;
  }

  #steps(skillId: string): readonly OnboardingStep[] {
    return this.#deps.registry.packageOf(skillId).manifest.onboarding ?? [];
  }

  #requireSkill(skillId: string): { name: string } {
    const skill = this.#deps.registry.find(skillId);
    if (skill === undefined) throw new AppError('NOT_FOUND', `no skill ${skillId} is installed`);
    return skill;
  }

  #repo(): OnboardingRepository {
    return new OnboardingRepository(this.#deps.db);
  }

  #save(record: OnboardingRecord, audit: AuditNote): Promise<void> {
    if (this.#disposed) return Promise.resolve();
    return this.#deps.chain.transact((tx) => this.#saveIn(tx, record, HOST, audit));
  }

  /** Persists progress and its `skill.onboarding` chain entry together (names, never values). */
  async #saveIn(
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

type AuditNote = {
  event: 'started' | 'step_completed' | 'waiting' | 'stopped' | 'operational';
  step_id?: string | null;
};

function emptyRecord(skillId: string): OnboardingRecord {
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
  };
}

/** What `GET /v1/skills` shows: the state, the step, and what it waits for or why it stopped. */
function viewOf(
  record: OnboardingRecord | undefined,
  steps: readonly OnboardingStep[],
): SkillOnboarding {
  if (record === undefined || record.run_id === null)
    return { state: 'NEEDS_SETUP', step: 0, waiting_for: 'setup not started' };
  const step = steps[record.step];
  const view = { state: record.state, step: record.step };
  if (record.state === 'OPERATIONAL') return view;
  if (record.reason !== null) return { ...view, waiting_for: record.reason };
  if (record.pending_approval_id !== null)
    return {
      ...view,
      waiting_for: `approval ${record.pending_approval_id} (${step?.kind === 'human_action' ? 'human action' : `secret ${record.pending_secret?.name ?? ''}`})`,
    };
  if (step?.kind === 'wait_for')
    return { ...view, waiting_for: `polling ${step.operation} every ${step.every_s} s` };
  return view;
}

/**
 * Where an unapproved secret value waits, encrypted in the secret store: a name derived from
 * the skill, step and target (secret names are UPPER_SNAKE_CASE, so no `__` prefix).
 */
function pendingSecretName(skillId: string, stepId: string, name: string): string {
  const digest = createHash('sha256').update(`${skillId}\0${stepId}\0${name}`).digest('hex');
  return `PENDING_ONBOARDING_${digest.slice(0, 24).toUpperCase()}`;
}
