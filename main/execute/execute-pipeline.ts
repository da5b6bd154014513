import type { Logger } from 'pino';
import type { Approval } from '../../contracts/approvals.ts';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import { payloadRefSchema } from '../../contracts/payloads.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import type { Run } from '../../contracts/runs.ts';
import type { JsonSchemaObject, SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import type { CausalChain, ChainAppendInput, ChainTx } from '../chain/causal-chain.ts';
import type { AuditEnvelope } from '../chain/egress-audit.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError, isAppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalRequest, ApprovalService } from '../runs/approval-service.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import type { ActorContext } from '../actor-context.ts';
import { JsonSchemaCompiler, type JsonValidator } from '../skills/manifest/compile-json-schema.ts';
import { needsSetup, type SkillRegistry } from '../skills/registry/skill-registry.ts';
import { parseToolName } from '../skills/manifest/tool-definitions.ts';
import { SKILL_LOAD_TOOL } from '../skills/manifest/builtin-tools.ts';
import { autofill, type AutofillRecord } from './autofill.ts';
import {
  errorOutcome,
  hashOrUndefined,
  outcomeLabel,
  recordedOutcome,
  replayableOutcome,
  tryHashCall,
} from './call-outcome.ts';
import { answerProblems, answerSchema, formFor } from './schema-form.ts';
import { CallMeter, type StepMeter } from './call-meter.ts';
import { SkillLoadTool } from './skill-load-tool.ts';
import type { SkillLoading } from './skill-load-request.ts';

export type ExecuteCall = {
  run: Run;
  step_id: string;
  segment: number;
  /** `<skill_id>__<operation_id>`, as in the agent's tool list. */
  tool: string;
  params: Record<string, unknown>;
  ctx: ActorContext;
  /**
   * The LLM's id for this call. When set, `step_id` is derived from it (the same for every
   * re-issue of the call) and the call runs at most once: a re-issue is answered from the
   * recorded outcome, or with CALL_OUTCOME_UNKNOWN when a run of it started and never ended.
   */
  call_id?: string;
  /**
   * Meters the step inside the call's own transactions (the supervisor's budget check): see
   * `StepMeter`. Absent, the call is not metered here (the host's own calls, the bench).
   */
  meter?: StepMeter;
};

export type ExecutePipelineDeps = {
  registry: SkillRegistry;
  approvals: ApprovalService;
  chain: CausalChain;
  redactor: Redactor;
  policies: PolicyPacks;
  clock: Clock;
  /** The host's redacting logger: one summary line per call (never params or outputs). */
  logger: Logger;
  readMemory: (namespace: string, key: string) => Promise<unknown>;
  /** Where each call's input and outcome are kept; the chain names them by digest. */
  payloads: PayloadStore;
  /** Serves the built-in `ccos__skill_load`; without it the tool is not found. */
  skills?: SkillLoading;
};

/** Either the call ends before the sandbox (paused, refused, invalid) or it runs with these params. */
type Gate = { done: ToolCallOutcome } | { params: Record<string, unknown> } | { refusal: AppError };

/** The gates of an operation approval (`rule_id`): the pack's floor, or the manifest's `always`. */
const RULE_PACK_CAPABILITIES = 'approval.pack_capabilities';
const RULE_MANIFEST_ALWAYS = 'approval.manifest_always';
/** The gate that asks a person for required fields nothing could fill. */
const RULE_MISSING_INPUT = 'input.missing_fields';

/** Longest step summary kept (it is redacted first). */
const MAX_SUMMARY = 500;

/** Said to the agent when a call it re-issues may already have had its effect. */
const OUTCOME_UNKNOWN_MESSAGE =
  'this call was started before and its outcome is unknown; check before retrying';

/** A call with a call id still running in this host, and the call it was (by `hashCall`). */
type InFlight = { callHash: string | undefined; outcome: Promise<ToolCallOutcome> };

/**
 * `ccos.skill.execute`, the one door from an agent to a skill (ARCHITECTURE.md §7):
 * resolve → auto-fill from allowlisted context → validate (Ajv) → ask the person for what
 * is really missing → operation approval → run in the sandbox → validate output → redact →
 * record the step and a `skill.execute` chain entry. No invalid request reaches the
 * isolate, and a decided approval allows exactly one execution of exactly the call it saw.
 */
export class ExecutePipeline {
  readonly #deps: ExecutePipelineDeps;
  readonly #compiler = new JsonSchemaCompiler();
  /** The built-in `ccos__skill_load`, when the host can install skills. */
  readonly #skillLoad: SkillLoadTool | undefined;
  /** By schema text: Ajv keeps every schema object it compiled, so each form is compiled once. */
  readonly #answerValidators = new Map<string, JsonValidator>();
  /**
   * Calls with a call id running now, by run and step: a worker killed mid-call leaves its
   * call running here, and the next worker's re-issue waits for it instead of starting it
   * again (the step row alone would say only "started, outcome unknown").
   */
  readonly #inFlight = new Map<string, InFlight>();
  /** Each call's metering, for the transactions along whichever path it takes. */
  readonly #meters = new WeakMap<ExecuteCall, CallMeter>();

  constructor(deps: ExecutePipelineDeps) {
    this.#deps = deps;
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
  }

  /** Registers the check of missing-input answers against the operation's schema. */
  registerAnswerValidation(): Disposable {
    return this.#deps.approvals.registerAnswerValidator(
      'missing_input',
      async (approval, answer) => {
        await Promise.resolve();
        this.#validateAnswer(approval, answer);
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
    this.#meters.set(call, meter);
    try {
      return await this.#executeMetered(call);
    } finally {
      meter.release();
    }
  }

  async #executeMetered(call: ExecuteCall): Promise<ToolCallOutcome> {
    if (call.call_id === undefined) return this.#execute(call);
    const key = `${call.run.id}\n${call.step_id}`;
    const callHash = hashOrUndefined(call.tool, call.params);
    const running = this.#inFlight.get(key);
    if (running !== undefined) {
      if (running.callHash !== callHash) return this.#conflict(call);
      // Metered before it waits, as any call is before it does anything: a re-issue that
      // waits on the first run of it is a step the agent took.
      await this.#meterNow(call);
      const outcome = await running.outcome;
      await this.#recordReplay(call, outcome, 'still_running');
      return outcome;
    }
    const outcome = this.#executeOnce(call, callHash);
    this.#inFlight.set(key, { callHash, outcome });
    try {
      return await outcome;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** A call with a call id and nothing of it running here: replay, refuse, or run it. */
  async #executeOnce(call: ExecuteCall, callHash: string | undefined): Promise<ToolCallOutcome> {
    const prior = await this.#deps.chain.transact(async (tx) => {
      const step = await tx.db
        .selectFrom('steps')
        .select(['ended_at', 'outcome'])
        .where('run_id', '=', call.run.id)
        .where('step_id', '=', call.step_id)
        .executeTakeFirst();
      if (step === undefined || (step.ended_at !== null && step.outcome === 'paused')) {
        return undefined;
      }
      if (step.ended_at === null) return { unknown: true as const };
      const entry = await tx.db
        .selectFrom('chain')
        .select('data')
        .where('run_id', '=', call.run.id)
        .where('step_id', '=', call.step_id)
        .where('event_type', '=', 'skill.execute')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const data = entry === undefined ? {} : (JSON.parse(entry.data) as Record<string, unknown>);
      // The outcome is in the payload the entry names by digest (purged: nothing to replay);
      // entries from before payloads held it inline.
      const ref = payloadRefSchema.safeParse(data.result);
      if (!ref.success) return { recorded: recordedOutcome(data), callHash: data.call_hash };
      const stored = await this.#deps.payloads.contentIn(tx, {
        run_id: call.run.id,
        step_id: call.step_id,
        kind: 'tool.outcome',
        digest: ref.data.digest,
      });
      const recorded = stored.found ? replayableOutcome(stored.content) : undefined;
      return { recorded, callHash: data.call_hash };
    });
    if (prior === undefined) return this.#execute(call);
    if ('unknown' in prior || prior.recorded === undefined) {
      // At most once: the host died between starting this call and recording its end, so
      // its effect may have happened. Running it again could do it twice; the agent is told.
      await this.#recordDecision(call, 'call.outcome_unknown', { decision: 'refused' });
      return errorOutcome('CALL_OUTCOME_UNKNOWN', OUTCOME_UNKNOWN_MESSAGE);
    }
    if (typeof prior.callHash === 'string' && prior.callHash !== callHash) {
      return this.#conflict(call);
    }
    await this.#recordReplay(call, prior.recorded, 'recorded');
    return prior.recorded;
  }

  /** The same call id came with another tool or other params: not a re-issue, and not run. */
  async #conflict(call: ExecuteCall): Promise<ToolCallOutcome> {
    await this.#recordDecision(call, 'call.id_reused', { decision: 'refused' });
    return errorOutcome(
      'IDEMPOTENCY_CONFLICT',
      `call id ${call.call_id ?? ''} was used before for a different call; nothing was run`,
    );
  }

  /** A re-issued call answered without running: only this decision is recorded. */
  async #recordReplay(
    call: ExecuteCall,
    outcome: ToolCallOutcome,
    from: 'recorded' | 'still_running',
  ): Promise<void> {
    await this.#recordDecision(call, 'call.replayed', {
      decision: 'replayed',
      from,
      outcome: outcome.status,
    });
  }

  #meterOf(call: ExecuteCall): CallMeter {
    // Calls reach the private paths only through `execute`, which registers their meter.
    return this.#meters.get(call) ?? new CallMeter(undefined);
  }

  /** Meters the call in a transaction of its own (paths with no transaction to share). */
  async #meterNow(call: ExecuteCall): Promise<void> {
    const refusal = await this.#deps.chain.transact((tx) =>
      this.#meterOf(call).authorizeIn(tx, true),
    );
    if (refusal !== undefined) throw refusal;
  }

  async #recordDecision(
    call: ExecuteCall,
    rule: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    const refusal = await this.#deps.chain.transact(async (tx) => {
      const refused = await this.#meterOf(call).authorizeIn(tx, true);
      if (refused !== undefined) return refused;
      await tx.append({
        ...entryOf(call),
        event_type: 'policy.decision',
        rule_id: rule,
        data: { ...data, tool: call.tool, call_id: call.call_id ?? null },
      });
      return undefined;
    });
    if (refusal !== undefined) throw refusal;
  }

  async #execute(call: ExecuteCall): Promise<ToolCallOutcome> {
    const started = this.#deps.clock.now();
    // The call as the agent made it identifies it across retries; fills and answers do not.
    const matchKey = tryHashCall(call.tool, call.params);
    if (typeof matchKey !== 'string') {
      // Params JSON can carry but the chain cannot hash (a lone surrogate from a model's
      // output): the agent's mistake, not the host's, and nothing of them is recorded.
      return this.#finish(call, started, undefined, matchKey, [], {});
    }
    if (call.tool === SKILL_LOAD_TOOL && this.#skillLoad !== undefined) {
      // Metered on its own, before the tool's own transactions (rare: no commit is saved).
      await this.#meterNow(call);
      return this.#skillLoad.run(call, matchKey, {
        finish: (outcome, skill) => this.#finish(call, started, skill, outcome, [], call.params),
        startStepIn: (tx) => this.#startStepIn(tx, call, started, call.params),
      });
    }
    const resolved = this.#resolve(call.tool);
    if ('outcome' in resolved)
      return this.#finish(call, started, undefined, resolved.outcome, [], call.params);
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
      const refusal = await this.#meterOf(call).authorizeIn(tx, !pure);
      if (refusal !== undefined) return { refusal };
      const decided = await this.#gateIn(tx, call, skill, op, pack, matchKey, filled);
      // The step is on record as started before anything runs, in the transaction that
      // spends the approvals: a host that dies mid-call leaves a step that never ended,
      // and a re-issue of the call is refused instead of run twice.
      if ('params' in decided && !pure) await this.#startStepIn(tx, call, started, decided.params);
      return decided;
    });
    if ('refusal' in gate) throw gate.refusal;
    if ('done' in gate)
      return this.#finish(call, started, skill, gate.done, filled.fills, filled.params);

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
    return this.#finish(call, started, skill, outcome, filled.fills, gate.params);
  }

  /** Input, missing fields and approvals: whether the call may run, and with which params. */
  async #gateIn(
    tx: ChainTx,
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    pack: PolicyPack,
    matchKey: string,
    filled: { params: Record<string, unknown>; fills: readonly AutofillRecord[] },
  ): Promise<Gate> {
    const usable = await this.#deps.approvals.findUsableIn(tx, call.run.id, matchKey);
    // A person who declined to fill the form refused the call: asking again would loop.
    const declined = usable.find((a) => a.kind === 'missing_input' && refused(a));
    if (declined !== undefined) {
      for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
      return {
        done: {
          status: 'refused' as const,
          reason: `a person declined to provide the input ${call.tool} needs${declined.reason === null ? '' : `: ${declined.reason}`}`,
        },
      };
    }
    const answered = usable.find((a) => a.kind === 'missing_input' && !refused(a));
    const params = { ...filled.params, ...(answered?.answer ?? {}) };
    const validation = this.#deps.registry.validateInput(skill.skill_id, op.id, params);
    if (!validation.ok) {
      const onlyMissing =
        validation.missing.length > 0 && validation.missing.length === validation.problems.length;
      if (!onlyMissing || answered !== undefined) {
        return {
          done: errorOutcome(
            'INVALID_INPUT',
            `invalid parameters for ${call.tool}: ${validation.problems.join('; ')}`,
          ),
        };
      }
      const approval = await this.#pause(tx, call, skill, op, matchKey, {
        kind: 'missing_input',
        rule_id: RULE_MISSING_INPUT,
        scope: call.tool,
        justification: `${call.tool} needs ${validation.missing.join(', ')}, which the agent did not give and no allowed source could fill`,
        request: {
          tool: call.tool,
          params: this.#deps.redactor.redactValue(filled.params),
          // What the host added to the agent's params, and from where: the person sees it.
          fills: filled.fills,
          missing_fields: validation.missing,
          form: formFor(op.input_schema, validation.missing),
        },
      });
      return {
        done: {
          status: 'paused' as const,
          reason: `waiting for a person to provide ${validation.missing.join(', ')}`,
          approval_id: approval.id,
          missing_fields: validation.missing,
        },
      };
    }
    const rule = this.#approvalRule(op, pack);
    if (rule !== undefined) {
      const decided = usable.find((a) => a.kind === 'operation');
      if (decided === undefined) {
        const approval = await this.#pause(tx, call, skill, op, matchKey, {
          kind: 'operation',
          rule_id: rule,
          scope: call.tool,
          justification: `the agent wants to run ${op.id} of ${skill.name}: ${op.description}`,
          request: {
            ...operationRequest(call.tool, op, this.#deps.redactor.redactValue(params)),
            fills: filled.fills,
          },
        });
        return {
          done: {
            status: 'paused' as const,
            reason: `waiting for approval to run ${call.tool}`,
            approval_id: approval.id,
          },
        };
      }
      // Spent now, before anything runs: a crash or a replay cannot run it twice.
      for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
      const why = decided.reason === null ? '' : `: ${decided.reason}`;
      if (decided.state === 'denied') {
        return {
          done: { status: 'refused' as const, reason: `a person refused ${call.tool}${why}` },
        };
      }
      if (decided.state === 'expired') {
        return {
          done: {
            status: 'refused' as const,
            reason: `the approval for ${call.tool} expired without a decision${why}`,
          },
        };
      }
      // A narrowed scope is not consent to the call as asked: the pipeline cannot tell
      // whether the call fits the person's words, so it fails closed and says what was granted.
      if (decided.state === 'modified' && decided.scope !== call.tool) {
        return {
          done: {
            status: 'refused' as const,
            reason: `a person granted only "${decided.scope}" instead of ${call.tool}${why}`,
          },
        };
      }
      return { params };
    }
    for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
    return { params };
  }

  /** Records the step as started (or again started, after a pause): it ends in `#finish`. */
  async #startStepIn(
    tx: ChainTx,
    call: ExecuteCall,
    started: Date,
    params: Record<string, unknown>,
  ): Promise<void> {
    const row = {
      segment: call.segment,
      summary: this.#summary(call, params),
      started_at: started.toISOString(),
      ended_at: null,
      outcome: null,
    };
    await upsertStepIn(tx, call, row);
  }

  #summary(call: ExecuteCall, params: Record<string, unknown>): string {
    const redact = this.#deps.redactor;
    return redact
      .redactString(`${call.tool} ${JSON.stringify(redact.redactValue(params))}`)
      .slice(0, MAX_SUMMARY);
  }

  #resolve(
    tool: string,
  ): { skill: SkillListEntry; op: SkillOperation } | { outcome: ToolCallOutcome } {
    const parsed = parseToolName(tool);
    const skill = parsed === undefined ? undefined : this.#deps.registry.find(parsed.skillId);
    const op = skill?.operations.find((o) => o.id === parsed?.operationId);
    if (skill === undefined || op === undefined) {
      const available = this.#deps.registry.tools().map((t) => t.name);
      return {
        outcome: errorOutcome(
          'NOT_FOUND',
          `no tool named ${tool}; available: ${available.length === 0 ? '(none)' : available.join(', ')}`,
        ),
      };
    }
    if (skill.status !== 'enabled')
      return { outcome: errorOutcome('SKILL_DISABLED', `skill ${skill.skill_id} is disabled`) };
    // Refused before any form or approval is shown: nothing can run until setup is done.
    if (!['OPERATIONAL', 'READY'].includes(skill.onboarding.state)) {
      const refusal = needsSetup(skill.skill_id, skill.onboarding);
      return { outcome: errorOutcome('SKILL_NEEDS_SETUP', refusal.message) };
    }
    return { skill, op };
  }

  /**
   * The gate that asks for this operation, or undefined when none does. The policy pack is a
   * floor: an operation declaring a capability the pack asks about needs approval whatever
   * its manifest says (`approval: never` is the skill author's wish, not the person's
   * consent); a manifest can only add a question with `approval: always`.
   */
  #approvalRule(op: SkillOperation, pack: PolicyPack): string | undefined {
    if (op.capabilities.some((c) => pack.approval_capabilities.includes(c)))
      return RULE_PACK_CAPABILITIES;
    if (op.approval === 'always') return RULE_MANIFEST_ALWAYS;
    return undefined;
  }

  async #pause(
    tx: ChainTx,
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    matchKey: string,
    request: Pick<ApprovalRequest, 'kind' | 'scope' | 'justification' | 'request' | 'rule_id'>,
  ): Promise<Approval> {
    const { approval } = await this.#deps.approvals.requestAndPauseIn(
      tx,
      {
        ...request,
        run_id: call.run.id,
        step_id: call.step_id,
        match_key: matchKey,
        permission_diff: [
          { permission: 'execute', to: call.tool },
          ...op.capabilities.map((c) => ({ permission: 'capability', to: c })),
          ...skill.permissions.egress.map((e) => ({
            permission: 'egress',
            to: `${e.methods.join('/')} ${e.origin}`,
          })),
        ],
      },
      call.ctx,
    );
    return approval;
  }

  #validateAnswer(approval: Approval, answer: Record<string, unknown> | undefined): void {
    const request = approval.request as { tool?: unknown; missing_fields?: unknown };
    const fields = Array.isArray(request.missing_fields)
      ? request.missing_fields.filter((f) => typeof f === 'string')
      : [];
    const resolved = typeof request.tool === 'string' ? this.#resolve(request.tool) : undefined;
    if (resolved === undefined || 'outcome' in resolved) {
      throw new AppError('CONFLICT', `the tool of approval ${approval.id} is no longer installed`);
    }
    const given = answer ?? {};
    const check = this.#answerValidator(answerSchema(resolved.op.input_schema, fields))(given);
    if (!check.ok) {
      const problems = answerProblems(check.problems, check.missing, fields, given);
      throw new AppError(
        'INVALID_INPUT',
        `the answer does not fit the form: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        { fields: problems },
      );
    }
  }

  #answerValidator(schema: JsonSchemaObject): JsonValidator {
    const key = JSON.stringify(schema);
    let validator = this.#answerValidators.get(key);
    if (validator === undefined) {
      validator = this.#compiler.compile(schema);
      this.#answerValidators.set(key, validator);
    }
    return validator;
  }

  async #finish(
    call: ExecuteCall,
    started: Date,
    skill: SkillListEntry | undefined,
    outcome: ToolCallOutcome,
    fills: readonly AutofillRecord[],
    params: Record<string, unknown>,
  ): Promise<ToolCallOutcome> {
    const ended = this.#deps.clock.now();
    const redact = this.#deps.redactor;
    const safeOutcome: ToolCallOutcome =
      outcome.status === 'error'
        ? { ...outcome, message: redact.redactString(outcome.message) }
        : outcome;
    const callHash =
      call.call_id === undefined ? undefined : hashOrUndefined(call.tool, call.params);
    const row = {
      segment: call.segment,
      summary: this.#summary(call, params),
      started_at: started.toISOString(),
      ended_at: ended.toISOString(),
      outcome: outcomeLabel(safeOutcome),
    };
    const refusal = await this.#deps.chain.transact(async (tx) => {
      const refused = await this.#meterOf(call).finishIn(tx);
      if (refused !== undefined) return refused;
      // Ends the step `#startStepIn` started, or records one that never reached the sandbox.
      await upsertStepIn(tx, call, row);
      // The content goes to payloads (purgeable); the chain keeps digests, sizes and labels.
      const about = { run_id: call.run.id, step_id: call.step_id, subject: call.tool };
      const input = await this.#deps.payloads.recordIn(tx, {
        ...about,
        kind: 'tool.input',
        content: redact.redactValue(params),
      });
      const result = await this.#deps.payloads.recordIn(tx, {
        ...about,
        kind: 'tool.outcome',
        content: safeOutcome,
      });
      await tx.append({
        ...entryOf(call),
        event_type: 'skill.execute',
        capability_id: skill?.skill_id ?? null,
        capability_version: skill?.version ?? null,
        data: {
          tool: call.tool,
          input,
          result,
          fills,
          outcome: safeOutcome.status,
          ...(safeOutcome.status === 'error' ? { code: safeOutcome.code } : {}),
          ...(safeOutcome.status === 'paused' ? { approval_id: safeOutcome.approval_id } : {}),
          ...(safeOutcome.status === 'refused' ? { reason: safeOutcome.reason } : {}),
          // What a re-issue of the call is checked against (its answer is the `result` payload).
          ...(call.call_id === undefined ? {} : { call_id: call.call_id, call_hash: callHash }),
          duration_ms: ended.getTime() - started.getTime(),
        },
      });
      return undefined;
    });
    if (refusal !== undefined) throw refusal;
    // Logs stay useful without the payloads: which skill and operation, how it ended, how long.
    this.#deps.logger[safeOutcome.status === 'error' ? 'warn' : 'info'](
      {
        run_id: call.run.id,
        step_id: call.step_id,
        tool: call.tool,
        skill_id: skill?.skill_id ?? null,
        version: skill?.version ?? null,
        operation_id: skill === undefined ? null : (parseToolName(call.tool)?.operationId ?? null),
        outcome: safeOutcome.status,
        ...(safeOutcome.status === 'error' ? { code: safeOutcome.code } : {}),
        duration_ms: ended.getTime() - started.getTime(),
      },
      'skill executed',
    );
    return safeOutcome;
  }
}

/** The capability of an operation with no effect outside its own output. */
const PURE_CAPABILITY = 'compute.pure';

/** Where a call happens: its run, session and step, and the request that caused it. */
function envelopeOf(call: ExecuteCall): AuditEnvelope {
  return {
    correlation_id: call.ctx.correlation_id ?? null,
    session_id: call.run.session_id,
    run_id: call.run.id,
    step_id: call.step_id,
  };
}

/** What every chain entry of a call says about who made it, where. */
function entryOf(call: ExecuteCall): Omit<ChainAppendInput, 'event_type'> {
  return { actor: call.ctx.actor, ...envelopeOf(call) };
}

/** Writes the call's step row, whether or not an earlier attempt left one. */
async function upsertStepIn(
  tx: ChainTx,
  call: ExecuteCall,
  row: {
    segment: number;
    summary: string;
    started_at: string;
    ended_at: string | null;
    outcome: string | null;
  },
): Promise<void> {
  await tx.db
    .insertInto('steps')
    .values({ run_id: call.run.id, step_id: call.step_id, kind: 'skill', tokens: 0, ...row })
    .onConflict((oc) => oc.columns(['run_id', 'step_id']).doUpdateSet(row))
    .execute();
}

/** Denied, or expired without a decision: either way the person did not consent. */
function refused(approval: Approval): boolean {
  return approval.state === 'denied' || approval.state === 'expired';
}

/**
 * What an operation approval shows: the tool, its arguments (redacted), and for a
 * declarative operation the request it makes — method and URL with the path parameters
 * filled in, encoded as the executor encodes them.
 */
function operationRequest(
  tool: string,
  op: SkillOperation,
  params: Record<string, unknown>,
): Record<string, unknown> {
  if (op.http === undefined) return { tool, params };
  const url = op.http.url.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));
  });
  return { tool, params, http: { method: op.http.method, url } };
}
