import type { Logger } from 'pino';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { isAppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { GrantService } from '../runs/grant-service.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import { DECLASSIFY_TOOL, SKILL_LOAD_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { TransformService } from '../transforms/transform-service.ts';
import { DeclassifyTool } from './declassify-tool.ts';
import { isTransformTool, runTransformTool } from './transform-tools.ts';
import { AnswerValidation } from './answer-validation.ts';
import { ApprovalGate, type Gate } from './approval-gate.ts';
import { autofill } from './autofill.ts';
import { CallLedger } from './call-ledger.ts';
import { CallMeter } from './call-meter.ts';
import { errorOutcome, tryHashCall } from './call-outcome.ts';
import { envelopeOf, type ExecuteCall } from './execute-call.ts';
import { resolveTool } from './resolve-tool.ts';
import { SkillLoadTool } from './skill-load-tool.ts';
import type { SkillLoading } from './skill-load-request.ts';
import { StepRecorder } from './step-recorder.ts';
// --- outbox (issue 23) ---
import type { OutboxService } from '../outbox/outbox-service.ts';
import { SEND_MESSAGE_TOOL } from '../outbox/send-message-definition.ts';
import { SendMessageTool } from './send-message-tool.ts';

export type { ExecuteCall } from './execute-call.ts';

export type ExecutePipelineDeps = {
  registry: SkillRegistry;
  approvals: ApprovalService;
  /** Standing approvals (issue 22); without them every gated call asks a person. */
  grants?: GrantService;
  chain: CausalChain;
  redactor: Redactor;
  policies: PolicyPacks;
  clock: Clock;
  /** The host's redacting logger: one summary line per call (never params or outputs). */
  logger: Logger;
  readMemory: (namespace: string, key: string, runId: string) => Promise<unknown>;
  /** Where each call's input and outcome are kept; the chain names them by digest. */
  payloads: PayloadStore;
  /** Serves the built-in `ccos__skill_load`; without it the tool is not found. */
  skills?: SkillLoading;
  /** Serves the built-in transform tools and `ccos__declassify` (issue 22); without it they are not found. */
  transforms?: TransformService;
  // --- outbox (issue 23) ---
  /** Serves the built-in `ccos__send_message`; without it the tool is not found. */
  outbox?: OutboxService;
};

/** The capability of an operation with no effect outside its own output. */
const PURE_CAPABILITY = 'compute.pure';

/**
 * `ccos.skill.execute`, the one door from an agent to a skill (ARCHITECTURE.md §7):
 * resolve → auto-fill from allowlisted context → validate (Ajv) → ask the person for what
 * is really missing → operation approval → run in the sandbox → validate output → redact →
 * record the step and a `skill.execute` chain entry. No invalid request reaches the
 * isolate, and a decided approval allows exactly one execution of exactly the call it saw.
 *
 * This class orders the steps; each is its own part: `CallLedger` (at most once per call
 * id), `ApprovalGate` (input, forms, approvals), `StepRecorder` (step rows, payloads, chain
 * entries), `AnswerValidation` (a person's answer to a form).
 */
export class ExecutePipeline {
  readonly #deps: ExecutePipelineDeps;
  readonly #recorder: StepRecorder;
  readonly #ledger: CallLedger;
  readonly #gate: ApprovalGate;
  readonly #answers: AnswerValidation;
  /** The built-in `ccos__skill_load`, when the host can install skills. */
  readonly #skillLoad: SkillLoadTool | undefined;
  /** The built-in `ccos__declassify`, when the host has transforms. */
  readonly #declassify: DeclassifyTool | undefined;
  /** The built-in `ccos__send_message`, when the host has an outbox (issue 23). */
  readonly #sendMessage: SendMessageTool | undefined;

  constructor(deps: ExecutePipelineDeps) {
    this.#deps = deps;
    this.#recorder = new StepRecorder(deps);
    this.#ledger = new CallLedger({
      chain: deps.chain,
      payloads: deps.payloads,
      recorder: this.#recorder,
    });
    this.#gate = new ApprovalGate(deps);
    this.#answers = new AnswerValidation(deps.registry);
    this.#skillLoad =
      deps.skills === undefined
        ? undefined
        : new SkillLoadTool({
            chain: deps.chain,
            policies: deps.policies,
            approvals: deps.approvals,
            registry: deps.registry,
            redactor: deps.redactor,
            skills: deps.skills,
          });
    this.#declassify =
      deps.transforms === undefined
        ? undefined
        : new DeclassifyTool({
            chain: deps.chain,
            transforms: deps.transforms,
            approvals: deps.approvals,
            redactor: deps.redactor,
          });
    this.#sendMessage =
      deps.outbox === undefined
        ? undefined
        : new SendMessageTool({
            chain: deps.chain,
            outbox: deps.outbox,
            policies: deps.policies,
            approvals: deps.approvals,
            redactor: deps.redactor,
          });
  }

  /** Registers the check of missing-input answers against the operation's schema. */
  registerAnswerValidation(): Disposable {
    return this.#deps.approvals.registerAnswerValidator(
      'missing_input',
      async (approval, answer) => {
        await Promise.resolve();
        this.#answers.check(approval, answer);
      },
    );
  }

  /**
   * Runs one call. A call with a `call_id` runs at most once per run: see `ExecuteCall`.
   * Paused outcomes are not final, so a re-issue after the person decided goes through the
   * gate again (and finds the decided approval by the call's params, as any call does).
   */
  async execute(call: ExecuteCall): Promise<ToolCallOutcome> {
    const meter = new CallMeter(call.meter);
    try {
      if (call.call_id === undefined) return await this.#execute(call, meter);
      return await this.#ledger.once(call, meter, () => this.#execute(call, meter));
    } finally {
      meter.release();
    }
  }

  async #execute(call: ExecuteCall, meter: CallMeter): Promise<ToolCallOutcome> {
    const started = this.#deps.clock.now();
    const finish: StepRecorder['finish'] = (...args) => this.#recorder.finish(...args);
    // The call as the agent made it identifies it across retries; fills and answers do not.
    const matchKey = tryHashCall(call.tool, call.params);
    if (typeof matchKey !== 'string') {
      // Params JSON can carry but the chain cannot hash (a lone surrogate from a model's
      // output): the agent's mistake, not the host's, and nothing of them is recorded.
      return finish(call, meter, started, undefined, matchKey, [], {});
    }
    if (call.tool === SKILL_LOAD_TOOL && this.#skillLoad !== undefined) {
      // Metered on its own, before the tool's own transactions (rare: no commit is saved).
      await this.#recorder.meterNow(meter);
      return this.#skillLoad.run(call, matchKey, {
        finish: (outcome, skill) => finish(call, meter, started, skill, outcome, [], call.params),
        startStepIn: (tx) => this.#recorder.startStepIn(tx, call, started, call.params),
      });
    }
    const transforms = this.#deps.transforms;
    if (transforms !== undefined && isTransformTool(call.tool)) {
      await this.#recorder.meterNow(meter);
      const outcome = await runTransformTool(transforms, call);
      return finish(call, meter, started, undefined, outcome, [], call.params);
    }
    if (call.tool === DECLASSIFY_TOOL && this.#declassify !== undefined) {
      await this.#recorder.meterNow(meter);
      const outcome = await this.#declassify.run(call, matchKey, {
        startStepIn: (tx) => this.#recorder.startStepIn(tx, call, started, call.params),
      });
      return finish(call, meter, started, undefined, outcome, [], call.params);
    }
    if (call.tool === SEND_MESSAGE_TOOL && this.#sendMessage !== undefined) {
      await this.#recorder.meterNow(meter);
      const outcome = await this.#sendMessage.run(call, matchKey, {
        startStepIn: (tx) => this.#recorder.startStepIn(tx, call, started, call.params),
      });
      return finish(call, meter, started, undefined, outcome, [], call.params);
    }
    const resolved = resolveTool(this.#deps.registry, call.tool);
    if ('outcome' in resolved)
      return finish(call, meter, started, undefined, resolved.outcome, [], call.params);
    const { skill, op } = resolved;
    const pack = this.#deps.policies.forRun(call.run);

    const filled = await autofill(call.params, op, skill.permissions, pack.autofill_sources, {
      runGoal: call.run.goal,
      runId: call.run.id,
      readMemory: this.#deps.readMemory,
    });

    // A pure operation has no effect to run twice: it needs no "started" record, and its
    // gate writes nothing unless it spends an approval, so its step commits once, at the end.
    const pure = op.capabilities.every((c) => c === PURE_CAPABILITY);
    const gate = await this.#deps.chain.transact<Gate>(async (tx) => {
      // Metered in the gate's transaction, not one of its own (issue 18).
      const refusal = await meter.authorizeIn(tx, !pure);
      if (refusal !== undefined) return { refusal };
      const decided = await this.#gate.decideIn(tx, call, skill, op, pack, matchKey, filled);
      // The step is on record as started before anything runs, in the transaction that
      // spends the approvals: a host that dies mid-call leaves a step that never ended,
      // and a re-issue of the call is refused instead of run twice.
      if ('params' in decided && !pure)
        await this.#recorder.startStepIn(tx, call, started, decided.params);
      return decided;
    });
    if ('refusal' in gate) throw gate.refusal;
    if ('done' in gate)
      return finish(call, meter, started, skill, gate.done, filled.fills, filled.params);

    let outcome: ToolCallOutcome;
    try {
      const output = await this.#deps.registry.call(skill.skill_id, op.id, gate.params, {
        envelope: { ...envelopeOf(call), policy_pack_version: pack.version },
      });
      outcome = { status: 'ok', output: this.#deps.redactor.redactValue(output) };
    } catch (e) {
      if (!isAppError(e)) throw e;
      outcome = errorOutcome(e.code, e.message);
    }
    return finish(call, meter, started, skill, outcome, filled.fills, gate.params);
  }
}
