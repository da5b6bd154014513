import type { Approval } from '../../contracts/approvals.ts';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import type { SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { AppError } from '../errors.ts';
import { decide } from '../policy/decide.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalRequest, ApprovalService } from '../runs/approval-service.ts';
import type { GrantService } from '../runs/grant-service.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import type { AutofillRecord } from './autofill.ts';
import { errorOutcome } from './call-outcome.ts';
import { entryOf, type ExecuteCall } from './execute-call.ts';
import { grantBasisOf } from './grant-basis.ts';
import { refusalOf } from './approval-refusal.ts';
import { formFor } from './schema-form.ts';
import { taintVerdictOf } from './taint-gate.ts';

export type ApprovalGateDeps = {
  approvals: ApprovalService;
  registry: SkillRegistry;
  redactor: Redactor;
  /** Standing approvals; without them every gated call asks a person. */
  grants?: GrantService;
};

/** Either the call ends before the sandbox (paused, refused, invalid) or it runs with these params. */
export type Gate =
  { done: ToolCallOutcome } | { params: Record<string, unknown> } | { refusal: AppError };

/** The agent's params with what auto-fill added, and where each fill came from. */
export type FilledParams = { params: Record<string, unknown>; fills: readonly AutofillRecord[] };

/** The gates of an operation approval (`rule_id`): the pack's floor, or the manifest's `always`. */
const RULE_PACK_CAPABILITIES = 'approval.pack_capabilities';
const RULE_MANIFEST_ALWAYS = 'approval.manifest_always';
/** The gate that asks a person for required fields nothing could fill. */
const RULE_MISSING_INPUT = 'input.missing_fields';

/**
 * Whether a call may run, and with which params: input validation, the form that asks a
 * person for required fields nothing could fill, and the operation approval. A decided
 * approval is spent in the transaction that lets the call through, so it allows exactly one
 * execution of exactly the call it saw (found by the call's `matchKey`).
 */
export class ApprovalGate {
  readonly #deps: ApprovalGateDeps;

  constructor(deps: ApprovalGateDeps) {
    this.#deps = deps;
  }

  /**
   * Pack rules, input, missing fields and approvals: whether the call may run, and with which
   * params. A pack's deny rule refuses the call before anything else (no person is asked to
   * fill in or approve a call that would be refused anyway).
   */
  async decideIn(
    tx: ChainTx,
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    pack: PolicyPack,
    matchKey: string,
    filled: FilledParams,
  ): Promise<Gate> {
    const byRules = decide(pack, {
      kind: 'operation',
      skill_id: skill.skill_id,
      operation: call.tool,
      capabilities: op.capabilities,
    });
    if (byRules.effect === 'deny') {
      await tx.append({
        ...entryOf(call),
        event_type: 'policy.decision',
        capability_id: skill.skill_id,
        capability_version: skill.version,
        rule_id: byRules.rule_id,
        data: { decision: 'refused', tool: call.tool, reason: byRules.reason },
      });
      return { done: { status: 'refused', reason: byRules.reason } };
    }
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
        permission_diff: permissionDiffOf(call.tool, skill, op),
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
    // Labels and taint of the answer that asked for the call come first (issue 22).
    const taint = taintVerdictOf(call.window, skill, op, pack, call.tool);
    if (taint !== undefined) {
      await tx.append({
        ...entryOf(call),
        event_type: 'policy.decision',
        rule_id: taint.rule_id,
        data: {
          tool: call.tool,
          decision: taint.kind === 'deny' ? 'denied' : 'approval_required',
          ...(taint.kind === 'deny' ? { reason: taint.reason } : { ...taint.request }),
        },
      });
      if (taint.kind === 'deny') {
        for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
        return { done: { status: 'refused', reason: taint.reason } };
      }
    }
    // An allow rule never waives an approval (constitution.no_side_effect_before_approval);
    // a rule that asks for one adds it.
    const rule =
      taint?.rule_id ?? (byRules.effect === 'ask' ? byRules.rule_id : approvalRule(op, pack));
    if (rule === undefined) {
      for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
      return { params };
    }
    const decided = usable.find((a) => a.kind === 'operation');
    if (decided === undefined) {
      const asked = {
        kind: 'operation' as const,
        rule_id: rule,
        // Computed once: the grant basis must hash exactly the diff the person is shown.
        permission_diff: permissionDiffOf(call.tool, skill, op),
        scope: call.tool,
        justification:
          taint?.justification ??
          `the agent wants to run ${op.id} of ${skill.name}: ${op.description}`,
        request: {
          ...operationRequest(call.tool, op, this.#deps.redactor.redactValue(params)),
          fills: filled.fills,
          ...taint?.request,
        },
      };
      // A standing grant answers exactly the question this call would ask, or none does.
      const basis = this.#basisOf(call, skill, op, asked);
      const grants = this.#deps.grants;
      const granted =
        grants === undefined
          ? undefined
          : await grants.useIn(tx, basis, { run: call.run, step_id: call.step_id, ctx: call.ctx });
      if (granted !== undefined) {
        for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
        return { params };
      }
      const approval = await this.#pause(tx, call, skill, op, matchKey, {
        ...asked,
        grant_basis: basis,
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
    const refusal = refusalOf(decided, call.tool);
    return refusal === undefined ? { params } : { done: { status: 'refused', reason: refusal } };
  }

  async #pause(
    tx: ChainTx,
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    matchKey: string,
    request: Pick<
      ApprovalRequest,
      'kind' | 'scope' | 'justification' | 'request' | 'rule_id' | 'permission_diff' | 'grant_basis'
    >,
  ): Promise<Approval> {
    const { approval } = await this.#deps.approvals.requestAndPauseIn(
      tx,
      {
        ...request,
        run_id: call.run.id,
        step_id: call.step_id,
        match_key: matchKey,
      },
      call.ctx,
    );
    return approval;
  }

  /** What a grant of this call's approval matches: see `grantBasisOf`. */
  #basisOf(
    call: ExecuteCall,
    skill: SkillListEntry,
    op: SkillOperation,
    asked: Pick<ApprovalRequest, 'kind' | 'permission_diff' | 'request'>,
  ): ReturnType<typeof grantBasisOf> {
    // The code as loaded now, which is what would run: a reinstall under the same version
    // with other code is another digest, so an old grant does not cover it.
    return grantBasisOf({
      kind: asked.kind,
      tool: call.tool,
      skill,
      op,
      skillDigest: this.#deps.registry.digestOf(skill.skill_id),
      permissionDiff: asked.permission_diff,
      request: asked.request,
    });
  }
}

/** "What this approval would grant", as the person sees it: the tool, its capabilities, its egress. */
function permissionDiffOf(
  tool: string,
  skill: SkillListEntry,
  op: SkillOperation,
): Approval['permission_diff'] {
  return [
    { permission: 'execute', to: tool },
    ...op.capabilities.map((c) => ({ permission: 'capability', to: c })),
    ...skill.permissions.egress.map((e) => ({
      permission: 'egress',
      to: `${e.methods.join('/')} ${e.origin}`,
    })),
  ];
}

/**
 * The gate that asks for this operation, or undefined when none does. The policy pack is a
 * floor: an operation declaring a capability the pack asks about needs approval whatever
 * its manifest says (`approval: never` is the skill author's wish, not the person's
 * consent); a manifest can only add a question with `approval: always`.
 */
function approvalRule(op: SkillOperation, pack: PolicyPack): string | undefined {
  if (op.capabilities.some((c) => pack.approval_capabilities.includes(c)))
    return RULE_PACK_CAPABILITIES;
  if (op.approval === 'always') return RULE_MANIFEST_ALWAYS;
  return undefined;
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
