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
import type { Dereferenced, QuarantineStore } from '../quarantine/quarantine-store.ts';
import { ModelTransformCalls, type TransformLlm } from './model-transform-calls.ts';
import { answerObject } from './transform-model.ts';
import { verifyOutput } from './redaction-verifier.ts';
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
  /** The host's LLM, when one is configured; absent, every transform uses its rules. */
  llm?: TransformLlm;
};

/**
 * The transform capabilities (summarize, extract, redact) and the redaction verifier: the
 * only code that reads quarantined content. Each read is a `quarantine.access` entry and
 * each result a `transform.output` entry (digest and label, never content), both in the
 * transaction that stores the output; outputs are schema-checked and `pii.redacted`.
 */
export class TransformService {
  readonly #deps: TransformServiceDeps;
  readonly #model: ModelTransformCalls | undefined;

  constructor(deps: TransformServiceDeps) {
    this.#deps = deps;
    this.#model =
      deps.llm === undefined ? undefined : new ModelTransformCalls(deps.llm, deps.redactor);
  }

  /**
   * Runs one transform on one blob of the run's session. With a local model configured,
   * summarize and extract ask it (metered against the run's tokens, an `llm.call` entry
   * with no content) and fall back to the rules when it fails, answers outside the schema,
   * is remote, or the budget cannot pay; the output says which engine made it.
   */
  async run(kind: TransformKind, params: unknown, call: TransformCall): Promise<TransformResult> {
    const parsed = transformToolInputSchema.safeParse(params);
    if (!parsed.success) throw invalidInput(`ccos.transform.${kind} input`, parsed.error.issues);
    const capability = TRANSFORMS[kind];
    const read = await this.#deps.chain.transact(async (tx) => {
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
      if ('refused' in source) return undefined;
      return { source, request: await this.#model?.requestIn(tx, kind, source, call) };
    });
    if (read === undefined) return { ok: false, refused: UNUSABLE_POINTER };
    const { source, request } = read;
    // Outside any transaction: a model call takes seconds, and the store has one connection.
    const model = this.#model;
    const answer =
      request === undefined || model === undefined ? undefined : await model.ask(request);
    // Also outside: reading a large message by rules takes a while, and the store waits.
    const object =
      answer === undefined || 'failed' in answer ? undefined : answerObject(answer.message.content);
    // A secret the message carried (a pasted token) never reaches the output.
    const modelChecked =
      object === undefined
        ? undefined
        : capability.schema.safeParse(this.#deps.redactor.redactValue(object));
    // A model answer outside the schema is dropped for the rules' output, never shown.
    const engine = modelChecked?.success === true ? 'llm' : 'rules';
    const checked =
      modelChecked?.success === true
        ? modelChecked
        : capability.schema.safeParse(this.#deps.redactor.redactValue(capability.run(source)));
    return this.#deps.chain.transact(async (tx) => {
      const entry = {
        ...auditedBy(call.ctx),
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: capability.id,
        capability_version: capability.version,
      };
      if (answer !== undefined && model !== undefined)
        await model.settleIn(tx, kind, answer, object !== undefined, call);
      if (!checked.success) {
        await tx.append({
          event_type: 'transform.output',
          ...entry,
          data: {
            content_ref: source.content_ref,
            outcome: 'invalid',
            engine,
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
          engine,
          ...(modelChecked?.success === false ? { model_output: 'invalid' } : {}),
        },
      });
      return {
        ok: true,
        value: {
          transform_output_id: stored.id,
          label: describeLabel(capability.output_label),
          // Derived from outside content (and a model may have read it): never instructions.
          taint: 'untrusted',
          output: checked.data,
        },
      };
    });
  }

  /**
   * Runs the redaction verifier on one output's exact bytes against its source, and keeps
   * the verdict bound to those bytes' digest: a release checks the digest again.
   */
  async verify(params: unknown, call: TransformCall): Promise<TransformResult> {
    const parsed = verifyToolInputSchema.safeParse(params);
    if (!parsed.success) throw invalidInput('ccos.transform.verify input', parsed.error.issues);
    const read = await this.#deps.chain.transact<
      { refused: string } | { output: StoredOutput; source: Dereferenced }
    >(async (tx) => {
      const output = await this.outputForRunIn(tx, parsed.data.transform_output_id, call);
      if (output === undefined) return { refused: UNUSABLE_OUTPUT };
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
        return { refused: 'the content this output came from is no longer available' };
      return { output, source };
    });
    if ('refused' in read) return { ok: false, refused: read.refused };
    const { output, source } = read;
    // Outside any transaction (a long message takes a while); the verdict names the digest
    // of the bytes it read, and outputs never change, so nothing can slip in between.
    const policy = quarantinePolicyOf(this.#deps.policies.forRun(call.run));
    const result: VerifierResult = verifyOutput(output.bytes, source.content, source, {
      max_quote_words: policy.verifier_max_quote_words,
      max_output_chars: policy.verifier_max_output_chars,
    });
    return this.#deps.chain.transact(async (tx) => {
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
