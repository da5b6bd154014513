import type { Run } from '../../contracts/runs.ts';
import {
  transformToolInputSchema,
  verifyToolInputSchema,
  type TransformKind,
  type VerifierResult,
} from '../../contracts/transforms.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { invalidInput } from '../errors.ts';
import { describeLabel } from '../policy/labels.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import { quarantinePolicyOf } from '../quarantine/quarantine-policy.ts';
import type { QuarantineStore } from '../quarantine/quarantine-store.ts';
import { verifyRedaction } from './redaction-verifier.ts';
import { TRANSFORMS, VERIFIER_CAPABILITY } from './transform-capabilities.ts';
import type { StoredOutput, TransformOutputs } from './transform-outputs.ts';

/** The run a transform serves, and the step that asked. */
export type TransformCall = { run: Run; step_id: string; ctx: ActorContext };

/** A transform's answer to the agent, or why it was refused (the chain says more). */
export type TransformResult =
  { ok: true; value: Record<string, unknown> } | { ok: false; refused: string };

export const RULE_OUTPUT_SESSION_BINDING = 'transform.session_binding';

/**
 * One answer for every unusable pointer: the agent learns neither whether it exists nor
 * whose it is. The chain entry names the real rule.
 */
const UNUSABLE_POINTER =
  'this content_ref cannot be read by this run: it is unknown, expired or purged, belongs to another session, or holds content this transform does not take';
const UNUSABLE_OUTPUT =
  'this transform_output_id is not one of this session’s transform outputs (or its content was purged)';

export type TransformServiceDeps = {
  chain: CausalChain;
  clock: Clock;
  quarantine: QuarantineStore;
  outputs: TransformOutputs;
  /** Masks known secret values in outputs before they are stored or shown. */
  redactor: Redactor;
  /** The verifier's limits come from the run's pack. */
  policies: PolicyPacks;
};

/**
 * The transform capabilities (summarize, extract, redact) and the redaction verifier: the
 * only code that reads quarantined content. Each read is a `quarantine.access` entry and
 * each result a `transform.output` entry (digest and label, never content), both in the
 * transaction that stores the output; outputs are schema-checked and `pii.redacted`.
 */
export class TransformService {
  readonly #deps: TransformServiceDeps;

  constructor(deps: TransformServiceDeps) {
    this.#deps = deps;
  }

  /** Runs one transform on one blob of the run's session. */
  run(kind: TransformKind, params: unknown, call: TransformCall): Promise<TransformResult> {
    const parsed = transformToolInputSchema.safeParse(params);
    if (!parsed.success) throw invalidInput(`ccos.transform.${kind} input`, parsed.error.issues);
    const capability = TRANSFORMS[kind];
    return this.#deps.chain.transact(async (tx) => {
      const source = await this.#deps.quarantine.dereferenceIn(tx, {
        content_ref: parsed.data.content_ref,
        capability_id: capability.id,
        capability_version: capability.version,
        input_label: capability.input_label,
        justification: parsed.data.justification,
        run: call.run,
        step_id: call.step_id,
        ctx: call.ctx,
      });
      if ('refused' in source) return { ok: false, refused: UNUSABLE_POINTER };
      const entry = {
        ...auditedBy(call.ctx),
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: capability.id,
        capability_version: capability.version,
      };
      // A secret the message carried (a pasted token) never reaches the output.
      const checked = capability.schema.safeParse(
        this.#deps.redactor.redactValue(capability.run(source)),
      );
      if (!checked.success) {
        await tx.append({
          event_type: 'transform.output',
          ...entry,
          data: {
            content_ref: source.content_ref,
            outcome: 'invalid',
            issues: checked.error.issues.map((i) => i.path.join('.')),
          },
        });
        return { ok: false, refused: `the ${kind} output did not pass its schema` };
      }
      const stored = await this.#deps.outputs.insertIn(tx, {
        run_id: call.run.id,
        session_id: call.run.session_id,
        source_ref: source.content_ref,
        capability_id: capability.id,
        capability_version: capability.version,
        label: capability.output_label,
        output: checked.data,
        created_at: this.#deps.clock.now().toISOString(),
      });
      await tx.append({
        event_type: 'transform.output',
        ...entry,
        data: {
          content_ref: source.content_ref,
          transform_output_id: stored.id,
          output_digest: stored.digest,
          label: describeLabel(capability.output_label),
        },
      });
      return {
        ok: true,
        value: {
          transform_output_id: stored.id,
          label: describeLabel(capability.output_label),
          output: checked.data,
        },
      };
    });
  }

  /**
   * Runs the redaction verifier on one output's exact bytes against its source, and keeps
   * the verdict bound to those bytes' digest: a release checks the digest again.
   */
  verify(params: unknown, call: TransformCall): Promise<TransformResult> {
    const parsed = verifyToolInputSchema.safeParse(params);
    if (!parsed.success) throw invalidInput('ccos.transform.verify input', parsed.error.issues);
    return this.#deps.chain.transact(async (tx) => {
      const output = await this.outputForRunIn(tx, parsed.data.transform_output_id, call);
      if (output === undefined) return { ok: false, refused: UNUSABLE_OUTPUT };
      const source = await this.#deps.quarantine.dereferenceIn(tx, {
        content_ref: output.source_ref,
        capability_id: VERIFIER_CAPABILITY.id,
        capability_version: VERIFIER_CAPABILITY.version,
        input_label: VERIFIER_CAPABILITY.input_label,
        justification: parsed.data.justification,
        run: call.run,
        step_id: call.step_id,
        ctx: call.ctx,
      });
      if ('refused' in source)
        return { ok: false, refused: 'the content this output came from is no longer available' };
      const policy = quarantinePolicyOf(this.#deps.policies.forRun(call.run));
      const result: VerifierResult = verifyRedaction(output.bytes, source.content, source, {
        max_quote_words: policy.verifier_max_quote_words,
        max_output_chars: policy.verifier_max_output_chars,
      });
      await this.#deps.outputs.recordVerificationIn(tx, output.id, output.digest, result);
      await tx.append({
        event_type: 'transform.output',
        ...auditedBy(call.ctx),
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: VERIFIER_CAPABILITY.id,
        capability_version: VERIFIER_CAPABILITY.version,
        data: {
          content_ref: output.source_ref,
          verified_output_id: output.id,
          output_digest: output.digest,
          ok: result.ok,
          issues: result.issues,
          label: 'public',
        },
      });
      return {
        ok: true,
        value: {
          transform_output_id: output.id,
          output_digest: output.digest,
          ok: result.ok,
          issues: result.issues,
        },
      };
    });
  }

  /**
   * One of this run's session's outputs, opened; undefined — and a `policy.decision` entry
   * naming the rule — when it is unknown, purged, or another session's.
   */
  async outputForRunIn(
    tx: ChainTx,
    id: string,
    call: TransformCall,
  ): Promise<StoredOutput | undefined> {
    const output = await this.#deps.outputs.getIn(tx, id);
    if (output !== undefined && output.session_id === call.run.session_id) return output;
    await tx.append({
      event_type: 'policy.decision',
      ...auditedBy(call.ctx),
      run_id: call.run.id,
      step_id: call.step_id,
      rule_id: output === undefined ? 'transform.unknown_output' : RULE_OUTPUT_SESSION_BINDING,
      data: { decision: 'deny', action: 'transform.output.read', transform_output_id: id },
    });
    return undefined;
  }
}
