import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Approval } from '../../contracts/approvals.ts';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { Run } from '../../contracts/runs.ts';
import type { JsonSchemaObject, SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import { canonicalJson } from '../chain/canonical-json.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError, isAppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { ActorContext } from '../runs/run-service.ts';
import { JsonSchemaCompiler, type JsonValidator } from '../skills/compile-json-schema.ts';
import { needsSetup, type SkillRegistry } from '../skills/skill-registry.ts';
import { parseToolName } from '../skills/tool-definitions.ts';
import { autofill, type AutofillRecord } from './autofill.ts';
import { answerSchema, formFor } from './schema-form.ts';

export type ExecuteCall = {
  run: Run;
  step_id: string;
  segment: number;
  /** `<skill_id>__<operation_id>`, as in the agent's tool list. */
  tool: string;
  params: Record<string, unknown>;
  ctx: ActorContext;
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
};

/** Either the call ends before the sandbox (paused, refused, invalid) or it runs with these params. */
type Gate = { done: ToolCallOutcome } | { params: Record<string, unknown> };

/** Longest step summary kept (it is redacted first). */
const MAX_SUMMARY = 500;

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
  /** By schema text: Ajv keeps every schema object it compiled, so each form is compiled once. */
  readonly #answerValidators = new Map<string, JsonValidator>();

  constructor(deps: ExecutePipelineDeps) {
    this.#deps = deps;
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

  async execute(call: ExecuteCall): Promise<ToolCallOutcome> {
    const started = this.#deps.clock.now();
    // The call as the agent made it identifies it across retries; fills and answers do not.
    const matchKey = tryHashCall(call.tool, call.params);
    if (typeof matchKey !== 'string') {
      // Params JSON can carry but the chain cannot hash (a lone surrogate from a model's
      // output): the agent's mistake, not the host's, and nothing of them is recorded.
      return this.#finish(call, started, undefined, matchKey, [], {});
    }
    const resolved = this.#resolve(call.tool);
    if ('outcome' in resolved)
      return this.#finish(call, started, undefined, resolved.outcome, [], call.params);
    const { skill, op } = resolved;
    const pack = this.#deps.policies.get(call.run.policy_pack);

    const filled = await autofill(call.params, op.input_schema, pack.autofill_sources, {
      runGoal: call.run.goal,
      runId: call.run.id,
      readMemory: this.#deps.readMemory,
    });

    const gate = await this.#deps.chain.transact<Gate>(async (tx) => {
      const usable = await this.#deps.approvals.findUsableIn(tx, call.run.id, matchKey);
      // A person who declined to fill the form refused the call: asking again would loop.
      const declined = usable.find((a) => a.kind === 'missing_input' && a.state === 'denied');
      if (declined !== undefined) {
        for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
        return {
          done: {
            status: 'refused' as const,
            reason: `a person declined to provide the input ${call.tool} needs${declined.reason === null ? '' : `: ${declined.reason}`}`,
          },
        };
      }
      const answered = usable.find((a) => a.kind === 'missing_input' && a.state !== 'denied');
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
          scope: call.tool,
          justification: `${call.tool} needs ${validation.missing.join(', ')}, which the agent did not give and no allowed source could fill`,
          request: {
            tool: call.tool,
            params: this.#deps.redactor.redactValue(filled.params),
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
      if (this.#needsApproval(op, pack.approval_capabilities)) {
        const decided = usable.find((a) => a.kind === 'operation');
        if (decided === undefined) {
          const approval = await this.#pause(tx, call, skill, op, matchKey, {
            kind: 'operation',
            scope: call.tool,
            justification: `the agent wants to run ${op.id} of ${skill.name}: ${op.description}`,
            request: { tool: call.tool, params: this.#deps.redactor.redactValue(params) },
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
    });
    if ('done' in gate)
      return this.#finish(call, started, skill, gate.done, filled.fills, filled.params);

    let outcome: ToolCallOutcome;
    try {
      const output = await this.#deps.registry.call(skill.skill_id, op.id, gate.params);
      outcome = { status: 'ok', output: this.#deps.redactor.redactValue(output) };
    } catch (e) {
      if (!isAppError(e)) throw e;
      outcome = errorOutcome(e.code, e.message);
    }
    return this.#finish(call, started, skill, outcome, filled.fills, gate.params);
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

  #needsApproval(op: SkillOperation, approvalCapabilities: readonly string[]): boolean {
    if (op.approval === 'always') return true;
    if (op.approval === 'never') return false;
    return op.capabilities.some((c) => approvalCapabilities.includes(c));
  }

  async #pause(
    tx: ChainTx,
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    matchKey: string,
    request: Pick<Approval, 'kind' | 'scope' | 'justification' | 'request'>,
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
    const summary = redact
      .redactString(`${call.tool} ${JSON.stringify(redact.redactValue(params))}`)
      .slice(0, MAX_SUMMARY);
    await this.#deps.chain.transact(async (tx) => {
      await tx.db
        .insertInto('steps')
        .values({
          run_id: call.run.id,
          step_id: call.step_id,
          segment: call.segment,
          kind: 'skill',
          summary,
          tokens: 0,
          started_at: started.toISOString(),
          ended_at: ended.toISOString(),
          outcome: outcomeLabel(safeOutcome),
        })
        .onConflict((oc) => oc.columns(['run_id', 'step_id']).doNothing())
        .execute();
      await tx.append({
        event_type: 'skill.execute',
        actor: call.ctx.actor,
        correlation_id: call.ctx.correlation_id ?? null,
        session_id: call.run.session_id,
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: skill?.skill_id ?? null,
        capability_version: skill?.version ?? null,
        data: {
          tool: call.tool,
          input: params,
          fills,
          outcome: safeOutcome.status,
          ...(safeOutcome.status === 'ok' ? { output: safeOutcome.output } : {}),
          ...(safeOutcome.status === 'error'
            ? { code: safeOutcome.code, message: safeOutcome.message }
            : {}),
          ...(safeOutcome.status === 'paused' ? { approval_id: safeOutcome.approval_id } : {}),
          duration_ms: ended.getTime() - started.getTime(),
        },
      });
    });
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

/** Identifies one call: the tool and its parameters as the agent gave them. */
export function hashCall(tool: string, params: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson({ tool, params })).digest('hex');
}

/**
 * The problems of a refused answer, each naming its form field (`answer.<field>`). Ajv
 * reports a missing or an extra property at the root without naming it; the person needs
 * to know which field to fix.
 */
function answerProblems(
  problems: readonly string[],
  missing: readonly string[],
  fields: readonly string[],
  given: Record<string, unknown>,
): { path: string; message: string }[] {
  const asked = new Set(fields);
  const named = problems.flatMap((p) => {
    const [where = '(root)', ...rest] = p.split(': ');
    const message = rest.join(': ');
    if (where !== '(root)') return [{ path: `answer${where.replaceAll('/', '.')}`, message }];
    // Root problems of the answer schema are the ones listed by field below.
    return /required property|additional properties/.test(message)
      ? []
      : [{ path: 'answer', message }];
  });
  return [
    ...missing.map((f) => ({ path: `answer.${f}`, message: 'is required by the form' })),
    ...Object.keys(given)
      .filter((k) => !asked.has(k))
      .map((k) => ({ path: `answer.${k}`, message: 'is not a field of this form' })),
    ...named,
  ];
}

/** `hashCall`, or an INVALID_INPUT outcome when the params are not canonical JSON. */
function tryHashCall(tool: string, params: Record<string, unknown>): string | ToolCallOutcome {
  try {
    return hashCall(tool, params);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return errorOutcome(
      'INVALID_INPUT',
      `invalid parameters for ${tool}: ${e.message.replace(/^canonicalJson: /, '')} (strings must be well-formed Unicode, numbers finite)`,
    );
  }
}

function errorOutcome(code: string, message: string): ToolCallOutcome {
  return { status: 'error', code, message };
}

function outcomeLabel(outcome: ToolCallOutcome): string {
  return outcome.status === 'error' ? `error:${outcome.code}` : outcome.status;
}
