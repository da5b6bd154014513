import { createHash } from 'node:crypto';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { ChainTx } from '../../chain/causal-chain.ts';
import { writeSkillMemoryIn } from '../bindings/store-skill-memory.ts';
import { parseStoreTarget, resolvePointer } from '../manifest/store-target.ts';
import { HOST } from './onboarding-progress.ts';
import type { OnboardingRecord } from './onboarding-repository.ts';
import { skillRefOf, stepsOf, type StepContext, type StepOfKind } from './step-context.ts';
import { unknownCallApproval } from './unknown-call.ts';

type ApiCall = StepOfKind<'api_call'>;

/**
 * The `api_call` step: calls an operation once and stores what its response names — memory
 * values at once, secrets only after a person approves (`secret_write`). At most once: the
 * call is on record before it is sent, so a host that died mid-call asks a person instead
 * of calling a non-idempotent operation (register) a second time.
 */
export class ApiCallStep {
  readonly #ctx: StepContext;

  constructor(ctx: StepContext) {
    this.#ctx = ctx;
  }

  async run(started: OnboardingRecord, step: ApiCall): Promise<boolean> {
    // Sent before and never recorded: the host died mid-call. Ask instead of repeating it.
    if (started.call_started_at !== null) {
      await this.#askAboutUnknownCall(started, step, started.call_started_at);
      return false;
    }
    // On record, committed, before the request leaves; cleared with the result below.
    const sentAt = this.#ctx.clock.now().toISOString();
    await this.#ctx.progress.save(
      { ...started, call_started_at: sentAt },
      { event: 'call_started', step_id: step.id },
    );
    const response = await this.#ctx.call(started.skill_id, step.operation, step.params);
    if (this.#ctx.stopping()) return false;
    const record: OnboardingRecord = { ...started, call_started_at: null };
    if (response.status < 200 || response.status > 299) {
      await this.#ctx.stop(
        record,
        `step ${step.id}: ${step.operation} answered HTTP ${response.status}`,
      );
      return false;
    }
    const values: { to: string; value: unknown }[] = [];
    for (const target of step.store) {
      const value = resolvePointer(response.body, target.from);
      if (value === undefined) {
        await this.#ctx.stop(record, `step ${step.id}: the response has no ${target.from}`);
        return false;
      }
      values.push({ to: target.to, value });
    }
    // From here the response exists only in this process: it is stored (secrets encrypted,
    // under a temporary name) together with the step's progress, in one transaction, so a
    // restart can never call a non-idempotent operation (register) a second time.
    const refused = await this.#ctx.chain.transact(async (tx) => {
      const next: OnboardingRecord = { ...record };
      for (const { to, value } of values) {
        const target = parseStoreTarget(to);
        if (target?.kind === 'memory') {
          // A service's answer is untrusted. A secret in it is refused (on record) and setup
          // stops; the call stays marked as started, so nothing repeats it unasked.
          const written = await writeSkillMemoryIn(
            tx,
            this.#ctx.memory,
            skillRefOf(this.#ctx.registry, record.skill_id),
            {
              namespace: target.namespace,
              key: target.key,
              value,
              run_id: null,
              step_id: null,
              taint: 'untrusted',
            },
            null,
            { actor: HOST.actor, run_id: record.run_id, data: { onboarding_step: step.id } },
          );
          if (!written.ok) return written.error;
        } else if (target?.kind === 'secret') {
          const approval = await this.#holdSecretIn(tx, record, step, target.name, value);
          next.pending_approval_id = approval.id;
          next.pending_secret = { name: target.name, temp: approval.temp };
        }
      }
      if (next.pending_approval_id === null) {
        next.completed = [...record.completed, { id: step.id, outcome: 'stored' }];
        next.step = record.step + 1;
        await this.#ctx.progress.saveIn(tx, next, HOST, {
          event: 'step_completed',
          step_id: step.id,
        });
      } else {
        await this.#ctx.progress.saveIn(tx, next, HOST, { event: 'waiting', step_id: step.id });
      }
      return undefined;
    });
    if (refused !== undefined) {
      await this.#ctx.stop(record, `step ${step.id}: ${refused.message}`);
      return false;
    }
    return true;
  }

  /**
   * A `secret_write` decision: the held value is stored under its name, or destroyed. Returns
   * the skill whose setup can go on, or undefined when the approval is not setup's.
   */
  async onSecretDecision(
    tx: ChainTx,
    approval: Approval,
    ctx: ActorContext,
  ): Promise<string | undefined> {
    const record = await this.#ctx.progress.findByApprovalIn(tx, approval.id);
    if (record === undefined || record.pending_secret === null) return undefined;
    const step = stepsOf(this.#ctx.registry, record.skill_id)[record.step];
    const pending = record.pending_secret;
    const cleared = { ...record, pending_approval_id: null, pending_secret: null };
    if (approval.state === 'approved') {
      await this.#ctx.secrets.renameIn(tx, pending.temp, pending.name, ctx);
      await this.#ctx.progress.saveIn(
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
      await this.#ctx.secrets.discardIn(tx, pending.temp, ctx);
      const reason = `storing secret ${pending.name} was not approved; setup stopped`;
      await this.#ctx.progress.saveIn(tx, { ...cleared, state: 'NEEDS_SETUP', reason }, ctx, {
        event: 'stopped',
      });
    }
    return record.skill_id;
  }

  /** The answer to `unknownCallApproval`: call again (the person's risk), or stop; as above. */
  async onUnknownCallDecision(
    tx: ChainTx,
    approval: Approval,
    ctx: ActorContext,
  ): Promise<string | undefined> {
    const record = await this.#ctx.progress.findByApprovalIn(tx, approval.id);
    if (record === undefined) return undefined;
    const step = stepsOf(this.#ctx.registry, record.skill_id)[record.step];
    if (step?.kind !== 'api_call') return undefined;
    const cleared = { ...record, pending_approval_id: null };
    if (approval.state === 'approved') {
      // The person takes the risk of a second effect: the next pass calls it again.
      await this.#ctx.progress.saveIn(tx, { ...cleared, call_started_at: null }, ctx, {
        event: 'call_retry_approved',
        step_id: step.id,
      });
    } else {
      // Still unknown: starting setup again asks again, after the person has checked.
      const reason = `the outcome of ${step.operation} (step ${step.id}) is unknown: the host stopped mid-call and a person chose not to call it again; check with the service, then start setup again`;
      await this.#ctx.progress.saveIn(tx, { ...cleared, reason }, ctx, {
        event: 'stopped',
        step_id: step.id,
      });
    }
    return record.skill_id;
  }

  /** Holds a secret value encrypted under a temporary name and asks a person to store it. */
  async #holdSecretIn(
    tx: ChainTx,
    record: OnboardingRecord,
    step: ApiCall,
    name: string,
    value: unknown,
  ): Promise<{ id: string; temp: string }> {
    const temp = pendingSecretName(record.skill_id, step.id, name);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    await this.#ctx.secrets.setIn(tx, temp, text, HOST);
    // A person approving "store it" must know when that destroys a value already there
    // (another skill's key, or one they set by hand).
    const replaces =
      (await tx.db
        .selectFrom('secrets')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst()) !== undefined;
    const approval = await this.#ctx.approvals.requestIn(
      tx,
      {
        run_id: record.run_id ?? '',
        step_id: `onboarding:${step.id}`,
        kind: 'secret_write',
        rule_id: 'onboarding.secret_write',
        scope: name,
        justification: `Setting up ${record.skill_id}: ${step.operation} returned a value for the secret ${name}. ${
          replaces
            ? `Approving REPLACES the value already stored as ${name}, which is then lost.`
            : 'Approve to store it.'
        } The value is never shown.`,
        permission_diff: [
          replaces
            ? { permission: `secret:${name}`, from: 'set', to: 'replaced' }
            : { permission: `secret:${name}`, to: 'written' },
        ],
        request: {
          skill_id: record.skill_id,
          step: step.id,
          operation: step.operation,
          secret: name,
          replaces_existing: replaces,
        },
      },
      HOST,
    );
    return { id: approval.id, temp };
  }

  /** Pauses setup on the question `unknownCallApproval` asks. */
  async #askAboutUnknownCall(
    record: OnboardingRecord,
    step: ApiCall,
    startedAt: string,
  ): Promise<void> {
    if (this.#ctx.stopping()) return;
    await this.#ctx.chain.transact(async (tx) => {
      const approval = await this.#ctx.approvals.requestIn(
        tx,
        unknownCallApproval(record, step, startedAt),
        HOST,
      );
      await this.#ctx.progress.saveIn(
        tx,
        { ...record, state: 'NEEDS_SETUP', pending_approval_id: approval.id },
        HOST,
        { event: 'waiting', step_id: step.id },
      );
    });
    await this.#ctx.publish(record.skill_id);
  }
}

/**
 * Where an unapproved secret value waits, encrypted in the secret store: a name derived from
 * the skill, step and target (secret names are UPPER_SNAKE_CASE, so no `__` prefix).
 */
function pendingSecretName(skillId: string, stepId: string, name: string): string {
  const digest = createHash('sha256').update(`${skillId}\0${stepId}\0${name}`).digest('hex');
  return `PENDING_ONBOARDING_${digest.slice(0, 24).toUpperCase()}`;
}
