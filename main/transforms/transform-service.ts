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
import { AppError, invalidInput, isAppError } from '../errors.ts';
import { describeLabel } from '../policy/labels.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import {
  quarantinePolicyOf,
  type ResolvedQuarantinePolicy,
} from '../quarantine/quarantine-policy.ts';
import type { Dereferenced, QuarantineStore } from '../quarantine/quarantine-store.ts';
import { ModelTransformCalls, type TransformLlm } from './model-transform-calls.ts';
import { answerObject } from './transform-model.ts';
import { TRANSFORMS, VERIFIER_CAPABILITY } from './transform-capabilities.ts';
import type { TransformSource } from './deterministic-transforms.ts';
import type { TransformJob } from './transform-job.ts';
import type { StoredOutput, TransformOutputs } from './transform-outputs.ts';
import type { TransformThreads } from './transform-threads.ts';

/** The run a transform serves, and the step that asked. */
export type TransformCall = { run: Run; step_id: string; ctx: ActorContext };

/** A transform's answer to the agent, or why it was refused (the chain says more). */
export type TransformResult =
  { ok: true; value: Record<string, unknown> } | { ok: false; refused: string };

export const RULE_OUTPUT_SESSION_BINDING = 'transform.session_binding';
/** The content is longer than the pack's `quarantine.transform_max_input_chars`. */
export const RULE_INPUT_TOO_LARGE = 'transform.input_too_large';
/** The transform ran past the pack's `quarantine.transform_time_limit_ms`, or its thread died. */
export const RULE_TIME_LIMIT = 'transform.time_limit';

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
  /** Where the rules and the verifier read the text: off the host's event loop. */
  threads: TransformThreads;
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
    const policy = quarantinePolicyOf(this.#deps.policies.forRun(call.run));
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
      const tooLarge = await this.#refuseTooLargeIn(tx, source, policy, capability.id, call);
      if (tooLarge !== undefined) return tooLarge;
      return { source, request: await this.#model?.requestIn(tx, kind, source, call) };
    });
    if (read === undefined) return { ok: false, refused: UNUSABLE_POINTER };
    if (read instanceof AppError) throw read;
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
        : capability.schema.safeParse(
            this.#deps.redactor.redactValue(
              await this.#onThread(
                { kind, source: idsAndContent(source) },
                policy,
                capability.id,
                call,
              ),
            ),
          );
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
          // As trusted as its source: a summary of the person's own message is theirs; one of
          // outside content is never instructions.
          taint: source.taint,
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
    const policy = quarantinePolicyOf(this.#deps.policies.forRun(call.run));
    const read = await this.#deps.chain.transact<
      { refused: string } | AppError | { output: StoredOutput; source: Dereferenced }
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
      return (
        (await this.#refuseTooLargeIn(tx, source, policy, VERIFIER_CAPABILITY.id, call)) ?? {
          output,
          source,
        }
      );
    });
    if (read instanceof AppError) throw read;
    if ('refused' in read) return { ok: false, refused: read.refused };
    const { output, source } = read;
    // Outside any transaction (a long message takes a while); the verdict names the digest
    // of the bytes it read, and outputs never change, so nothing can slip in between.
    const result = (await this.#onThread(
      {
        kind: 'verify',
        bytes: output.bytes,
        source: source.content,
        ids: { sender_id: source.sender_id, channel_id: source.channel_id },
        limits: {
          max_quote_words: policy.verifier_max_quote_words,
          max_output_chars: policy.verifier_max_output_chars,
        },
      },
      policy,
      VERIFIER_CAPABILITY.id,
      call,
    )) as VerifierResult;
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
   * The pack's input cap: content longer than it is refused before any rule reads it, as a
   * `policy.decision` (`transform.input_too_large`). Returned, not thrown, so the entry
   * commits with the transaction; the caller throws it.
   */
  async #refuseTooLargeIn(
    tx: ChainTx,
    source: Dereferenced,
    policy: ResolvedQuarantinePolicy,
    capabilityId: string,
    call: TransformCall,
  ): Promise<AppError | undefined> {
    const limit = policy.transform_max_input_chars;
    if (source.content.length <= limit) return undefined;
    await tx.append({
      event_type: 'policy.decision',
      ...auditedBy(call.ctx),
      run_id: call.run.id,
      step_id: call.step_id,
      capability_id: capabilityId,
      rule_id: RULE_INPUT_TOO_LARGE,
      data: {
        decision: 'deny',
        action: 'transform.read',
        content_ref: source.content_ref,
        chars: source.content.length,
        limit,
      },
    });
    return new AppError(
      'TRANSFORM_INPUT_TOO_LARGE',
      `this content is ${String(source.content.length)} characters; the pack lets transforms read at most ${String(limit)}`,
      { chars: source.content.length, limit, rule_id: RULE_INPUT_TOO_LARGE },
    );
  }

  /**
   * A job on a transform thread under the pack's time limit. A job stopped at the limit, or
   * whose thread died, is a `policy.decision` (`transform.time_limit`) and then the error.
   */
  async #onThread(
    job: TransformJob,
    policy: ResolvedQuarantinePolicy,
    capabilityId: string,
    call: TransformCall,
  ): Promise<Record<string, unknown>> {
    try {
      return await this.#deps.threads.run(job, policy.transform_time_limit_ms);
    } catch (e) {
      if (!isAppError(e, 'TRANSFORM_TIME_LIMIT') && !isAppError(e, 'TRANSFORM_FAILED')) throw e;
      await this.#deps.chain.transact(async (tx) => {
        await tx.append({
          event_type: 'policy.decision',
          ...auditedBy(call.ctx),
          run_id: call.run.id,
          step_id: call.step_id,
          capability_id: capabilityId,
          rule_id: RULE_TIME_LIMIT,
          data: {
            decision: 'deny',
            action: 'transform.run',
            code: e.code,
            time_limit_ms: policy.transform_time_limit_ms,
          },
        });
      });
      throw e;
    }
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

/** What a transform thread is sent: the text and the message's ids, nothing else. */
function idsAndContent(source: Dereferenced): TransformSource {
  return { content: source.content, sender_id: source.sender_id, channel_id: source.channel_id };
}
