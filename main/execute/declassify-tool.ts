import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { Approval } from '../../contracts/approvals.ts';
import { declassifyToolInputSchema } from '../../contracts/transforms.ts';
import { auditedBy } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { describeLabel, PUBLIC } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import { DECLASSIFY_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { StoredOutput } from '../transforms/transform-outputs.ts';
import type { TransformService } from '../transforms/transform-service.ts';
import { errorOutcome } from './call-outcome.ts';
import type { ExecuteCall } from './execute-call.ts';

/** The two halves of a release, as the chain names them. */
export const RULE_DECLASSIFY_VERIFIER = 'declassify.verifier';
export const RULE_DECLASSIFY_APPROVAL = 'declassify.approval';
/** An approval shown other bytes than the output now holds. */
export const RULE_DECLASSIFY_DIGEST = 'declassify.digest';

/** What the approval showed: the digest it is bound to. */
const APPROVED_DIGEST_FIELD = 'output_digest';

export type DeclassifyToolDeps = {
  chain: CausalChain;
  transforms: TransformService;
  approvals: ApprovalService;
  redactor: Redactor;
};

/** How the pipeline records this call's step once an approval is spent. */
export type DeclassifyStep = { startStepIn: (tx: ChainTx) => Promise<void> };

/**
 * `ccos__declassify`: a `pii.*` → `public` downgrade of one transform output
 * (CHAT-SECURITY-CONTRACT.md, "Egress"). Released only when BOTH hold, checked together at
 * release: the redaction verifier passed on the output's exact bytes (its digest now), and
 * a person approved a per-run `declassify` approval that showed those same bytes. Without a
 * pass nothing is asked; without an approval the run pauses on one; a denial, an expiry, or
 * bytes that differ from what was verified or shown release nothing. Each refusal is a
 * `policy.decision` with its rule; a release is a `transform.output` labelled `public`.
 */
export class DeclassifyTool {
  readonly #deps: DeclassifyToolDeps;

  constructor(deps: DeclassifyToolDeps) {
    this.#deps = deps;
  }

  async run(call: ExecuteCall, matchKey: string, step: DeclassifyStep): Promise<ToolCallOutcome> {
    const parsed = declassifyToolInputSchema.safeParse(call.params);
    if (!parsed.success) {
      const list = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return errorOutcome('INVALID_INPUT', `invalid parameters for ${call.tool}: ${list}`);
    }
    const input = parsed.data;
    const bound = { run: call.run, step_id: call.step_id, ctx: call.ctx };
    // One transaction: the approval is spent, the checks made and the release recorded
    // together, so no interleaving can release bytes other than those checked.
    return this.#deps.chain.transact(async (tx): Promise<ToolCallOutcome> => {
      const output = await this.#deps.transforms.outputForRunIn(
        tx,
        input.transform_output_id,
        bound,
      );
      if (output === undefined)
        return {
          status: 'refused',
          reason: 'this transform_output_id is not one of this session’s transform outputs',
        };
      const usable = (await this.#deps.approvals.findUsableIn(tx, call.run.id, matchKey)).filter(
        (a) => a.kind === 'declassify',
      );
      const approval = usable[0];
      if (approval !== undefined) {
        for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
        await step.startStepIn(tx);
      }
      // The verifier's half, checked at every call: approval alone releases nothing.
      if (!(output.verification?.ok === true && output.verified_digest === output.digest)) {
        const why =
          output.verification === null
            ? 'the redaction verifier has not run on this output'
            : output.verified_digest !== output.digest
              ? 'the redaction verifier ran on other bytes than this output holds'
              : 'the redaction verifier failed this output';
        await this.#deny(tx, call, output, RULE_DECLASSIFY_VERIFIER, why, approval);
        return {
          status: 'refused',
          reason: `${why}; nothing was released (run ccos__transform_verify first)`,
        };
      }
      if (approval === undefined) return this.#ask(tx, call, matchKey, output, input.justification);
      // The person's half: this run, these bytes, approved as asked.
      if (
        approval.state !== 'approved' &&
        !(approval.state === 'modified' && approval.scope === output.id)
      ) {
        const why = `a person did not approve the release (${approval.state})`;
        await this.#deny(tx, call, output, RULE_DECLASSIFY_APPROVAL, why, approval);
        return { status: 'refused', reason: `${why}; nothing was released` };
      }
      if (approval.request[APPROVED_DIGEST_FIELD] !== output.digest) {
        const why = 'the output differs from the one the person approved';
        await this.#deny(tx, call, output, RULE_DECLASSIFY_DIGEST, why, approval);
        return { status: 'refused', reason: `${why}; nothing was released` };
      }
      await tx.append({
        event_type: 'transform.output',
        ...auditedBy(call.ctx),
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: 'ccos.declassify',
        capability_version: '1',
        rule_id: 'declassify.released',
        data: {
          content_ref: output.source_ref,
          transform_output_id: output.id,
          output_digest: output.digest,
          label: describeLabel(PUBLIC),
          declassified_from: describeLabel(output.label),
          approval_id: approval.id,
        },
      });
      return {
        status: 'ok',
        output: {
          transform_output_id: output.id,
          label: describeLabel(PUBLIC),
          // Declassifying lowers the label, never raises trust: it came from outside.
          taint: 'untrusted',
          output: output.output,
        },
      };
    });
  }

  /** Pauses the run on a `declassify` approval that shows exactly the bytes to release. */
  async #ask(
    tx: ChainTx,
    call: ExecuteCall,
    matchKey: string,
    output: StoredOutput,
    justification: string,
  ): Promise<ToolCallOutcome> {
    const { approval } = await this.#deps.approvals.requestAndPauseIn(
      tx,
      {
        run_id: call.run.id,
        step_id: call.step_id,
        kind: 'declassify',
        scope: output.id,
        justification: this.#deps.redactor.redactString(justification),
        permission_diff: [
          {
            permission: `label of ${output.id}`,
            from: describeLabel(output.label),
            to: describeLabel(PUBLIC),
          },
        ],
        request: {
          tool: DECLASSIFY_TOOL,
          transform_output_id: output.id,
          // Shown whole: the person decides on what would become public, and the digest
          // binds the decision to these bytes.
          output: output.output,
          [APPROVED_DIGEST_FIELD]: output.digest,
        },
        match_key: matchKey,
        rule_id: RULE_DECLASSIFY_APPROVAL,
      },
      call.ctx,
    );
    return {
      status: 'paused',
      reason: `waiting for a person to approve releasing ${output.id} as public`,
      approval_id: approval.id,
    };
  }

  async #deny(
    tx: ChainTx,
    call: ExecuteCall,
    output: StoredOutput,
    ruleId: string,
    reason: string,
    approval: Approval | undefined,
  ): Promise<void> {
    await tx.append({
      event_type: 'policy.decision',
      ...auditedBy(call.ctx),
      run_id: call.run.id,
      step_id: call.step_id,
      capability_id: 'ccos.declassify',
      capability_version: '1',
      rule_id: ruleId,
      data: {
        decision: 'deny',
        action: 'declassify',
        transform_output_id: output.id,
        output_digest: output.digest,
        verified_digest: output.verified_digest,
        reason,
        ...(approval === undefined ? {} : { approval_id: approval.id }),
      },
    });
  }
}
