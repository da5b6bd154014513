import { isAppError } from '../../errors.ts';
import { applyJsonLogic } from '../../json-logic.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';
import type { StepContext, StepOfKind } from './step-context.ts';

/**
 * The `wait_for` step: polls an operation every `every_s` until its `until` rule (JSON
 * Logic over the response) holds, or stops setup once `timeout_s` has passed since the step
 * began — a start kept on record, so the deadline survives restarts.
 */
export class WaitForStep {
  readonly #ctx: StepContext;

  constructor(ctx: StepContext) {
    this.#ctx = ctx;
  }

  async run(record: OnboardingRecord, step: StepOfKind<'wait_for'>): Promise<boolean> {
    const now = this.#ctx.clock.now();
    let current = record;
    if (record.step_started_at === null) {
      current = { ...record, step_started_at: now.toISOString() };
      await this.#ctx.progress.save(current, { event: 'waiting', step_id: step.id });
    }
    let holds = false;
    try {
      const response = await this.#ctx.call(record.skill_id, step.operation, step.params);
      holds = Boolean(applyJsonLogic(step.until, response));
    } catch (e) {
      // A failed poll is a "not yet": the deadline, not one network error, ends the wait.
      if (!isAppError(e)) throw e;
      this.#ctx.logger.warn({ skill_id: record.skill_id, code: e.code }, 'onboarding poll failed');
    }
    if (this.#ctx.stopping()) return false;
    if (holds) {
      await this.#ctx.progress.save(
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
    if (this.#ctx.clock.now().getTime() - started >= step.timeout_s * 1000) {
      await this.#ctx.stop(
        { ...current, step_started_at: null },
        `step ${step.id}: ${step.operation} did not report the expected state within ${step.timeout_s} s`,
      );
      return false;
    }
    this.#ctx.later(record.skill_id, step.every_s * 1000);
    return false;
  }
}
