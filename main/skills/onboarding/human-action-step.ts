import type { Approval } from '../../../contracts/approvals.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { ChainTx } from '../../chain/causal-chain.ts';
import { readSkillMemoryIn, writeSkillMemoryIn } from '../bindings/store-skill-memory.ts';
import { NO_RUN_AUDIENCE } from '../../memory/memory-audience.ts';
import { PLACEHOLDER } from '../manifest/store-target.ts';
import { HOST } from './onboarding-progress.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';
import { skillRefOf, stepsOf, type StepContext, type StepOfKind } from './step-context.ts';

/**
 * The `human_action` step: asks a person to do something outside the host and fill a form
 * (a `human_action` approval); the answer goes to the skill's memory when they approve.
 */
export class HumanActionStep {
  readonly #ctx: StepContext;

  constructor(ctx: StepContext) {
    this.#ctx = ctx;
  }

  async run(record: OnboardingRecord, step: StepOfKind<'human_action'>): Promise<boolean> {
    const instructions = await this.#instructions(record.skill_id, step.instructions);
    await this.#ctx.chain.transact(async (tx) => {
      const approval = await this.#ctx.approvals.requestIn(
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
      await this.#ctx.progress.saveIn(
        tx,
        { ...record, state: 'PENDING_HUMAN_ACTION', pending_approval_id: approval.id },
        HOST,
        { event: 'waiting', step_id: step.id },
      );
    });
    return false;
  }

  /**
   * The person's decision: the form's answers go to memory, or setup stops. Returns the
   * skill whose setup can go on, or undefined when the approval is not setup's.
   */
  async onDecision(
    tx: ChainTx,
    approval: Approval,
    ctx: ActorContext,
  ): Promise<string | undefined> {
    const record = await this.#ctx.progress.findByApprovalIn(tx, approval.id);
    if (record === undefined) return undefined;
    const step = stepsOf(this.#ctx.registry, record.skill_id)[record.step];
    if (step?.kind !== 'human_action') return undefined;
    const cleared = { ...record, pending_approval_id: null, state: 'NEEDS_SETUP' as const };
    if (approval.state !== 'approved') {
      const reason = `a person declined step ${step.id}; setup stopped`;
      await this.#ctx.progress.saveIn(tx, { ...cleared, reason }, ctx, { event: 'stopped' });
      return record.skill_id;
    }
    const registry = this.#ctx.registry;
    const namespace =
      step.namespace ??
      registry.packageOf(record.skill_id).manifest.permissions.memory_namespaces[0];
    for (const field of step.fields) {
      // What the person typed is trusted; a secret pasted into a field is still refused.
      const item = {
        namespace: namespace ?? record.skill_id,
        key: field.name,
        value: approval.answer?.[field.name],
        run_id: null,
        step_id: null,
        taint: 'trusted' as const,
      };
      const written = await writeSkillMemoryIn(
        tx,
        this.#ctx.memory,
        skillRefOf(registry, record.skill_id),
        item,
        null,
        { actor: ctx.actor, run_id: record.run_id, data: { onboarding_step: step.id } },
      );
      if (!written.ok) {
        const reason = `step ${step.id}: ${written.error.message}`;
        await this.#ctx.progress.saveIn(tx, { ...cleared, reason }, ctx, { event: 'stopped' });
        return record.skill_id;
      }
    }
    await this.#ctx.progress.saveIn(
      tx,
      {
        ...cleared,
        step: record.step + 1,
        completed: [...record.completed, { id: step.id, outcome: 'answered' }],
      },
      ctx,
      { event: 'step_completed', step_id: step.id },
    );
    return record.skill_id;
  }

  /** The instructions with their `{{memory.<ns>.<key>}}` placeholders filled in. */
  async #instructions(skillId: string, template: string): Promise<string> {
    let instructions = template;
    for (const match of template.matchAll(PLACEHOLDER)) {
      const [text, , ns, key] = match;
      // Only memory values (checked at load): a secret can never be put in front of a person.
      // Setup's own facts: written outside any run, read the same way.
      const value = await this.#ctx.chain.transact((tx) =>
        readSkillMemoryIn(
          tx,
          this.#ctx.memory,
          skillRefOf(this.#ctx.registry, skillId),
          ns ?? '',
          key ?? '',
          NO_RUN_AUDIENCE,
          { actor: HOST.actor },
        ),
      );
      instructions = instructions.replace(
        text,
        typeof value === 'string' ? value : JSON.stringify(value),
      );
    }
    return instructions;
  }
}
