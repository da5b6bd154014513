import type { LlmCompleteRequest, LlmCompleteResult } from '../../contracts/llm.ts';
import type { TransformKind } from '../../contracts/transforms.ts';
import { auditedBy } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { isAppError } from '../errors.ts';
import { describeLabel } from '../policy/labels.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { Dereferenced } from '../quarantine/quarantine-store.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { HostControls } from '../runs/host-controls.ts';
import type { RunService } from '../runs/run-service.ts';
import { normalized, replaceIdentifiers } from './identifiers.ts';
import type { TransformCall } from './transform-service.ts';
import {
  MODEL_TRANSFORMS,
  tokenNeed,
  transformRequest,
  type TransformModel,
} from './transform-model.ts';

/** A model transform's model, and what meters it against the run's budget. */
export type TransformLlm = {
  model: TransformModel;
  meter: BudgetMeter;
  runs: RunService;
  /** The host-wide daily token cap (`ccos agents limits`), which model transforms count toward. */
  controls?: Pick<HostControls, 'chargeTokens' | 'tokensLeftToday'>;
};

/** What a model call came back with: its result, or the code of its failure. */
export type ModelAnswer = LlmCompleteResult | { failed: string };

export const RULE_REMOTE_MODEL = 'transform.llm_remote';

/**
 * The model side of summarize and extract: whether the model may be asked (a local
 * provider, a budget that can pay), the call, and its metering and `llm.call` entry. The
 * caller holds no transaction while the model answers.
 */
export class ModelTransformCalls {
  readonly #llm: TransformLlm;
  readonly #redactor: Redactor;

  constructor(llm: TransformLlm, redactor: Redactor) {
    this.#llm = llm;
    this.#redactor = redactor;
  }

  /**
   * The model request for this transform, or undefined for the rules: no model, a transform
   * a model does not serve, a remote provider (recorded: message text is not sent off the
   * machine), or a run whose budget cannot pay for the call.
   */
  async requestIn(
    tx: ChainTx,
    kind: TransformKind,
    source: Dereferenced,
    call: TransformCall,
  ): Promise<LlmCompleteRequest | undefined> {
    const llm = this.#llm;
    if (!MODEL_TRANSFORMS.has(kind)) return undefined;
    if (!llm.model.local) {
      await tx.append({
        event_type: 'policy.decision',
        ...auditedBy(call.ctx),
        run_id: call.run.id,
        step_id: call.step_id,
        capability_id: llm.model.id,
        rule_id: RULE_REMOTE_MODEL,
        data: {
          decision: 'deny',
          action: 'llm.transform',
          label: describeLabel(source.label),
          reason: 'the LLM provider is not on this machine; the transform used its rules',
        },
      });
      return undefined;
    }
    // Identifiers and known secrets never reach the model, local or not.
    const request = transformRequest(
      kind,
      this.#redactor.redactString(
        replaceIdentifiers(normalized(source.content), {
          sender_id: normalized(source.sender_id),
          channel_id: normalized(source.channel_id),
        }),
      ),
    );
    const run = await llm.runs.getIn(tx, call.run.id);
    const need = tokenNeed(request);
    if ((llm.controls?.tokensLeftToday() ?? Infinity) < need) return undefined;
    const overrun = await llm.meter.checkIn(tx, run, { tokens: need, activeMs: 0 });
    return overrun === undefined ? request : undefined;
  }

  async ask(request: LlmCompleteRequest): Promise<ModelAnswer> {
    try {
      return await this.#llm.model.complete(request);
    } catch (e) {
      return { failed: isAppError(e) ? e.code : 'LLM_UNAVAILABLE' };
    }
  }

  /** Charges and records a model call; `usable`: its answer held a JSON object. */
  async settleIn(
    tx: ChainTx,
    kind: TransformKind,
    answer: ModelAnswer,
    usable: boolean,
    call: TransformCall,
  ): Promise<void> {
    const llm = this.#llm;
    const base = {
      event_type: 'llm.call' as const,
      ...auditedBy(call.ctx),
      run_id: call.run.id,
      step_id: call.step_id,
      capability_id: llm.model.id,
    };
    if ('failed' in answer) {
      await tx.append({
        ...base,
        // Not `failed`: that outcome is the agent's own call, which the supervisor counts
        // toward the run's consecutive LLM failures; the rules answered this transform.
        data: { purpose: `transform.${kind}`, outcome: 'fell_back', code: answer.failed },
      });
      return;
    }
    const tokens = answer.usage.input_tokens + answer.usage.output_tokens;
    llm.controls?.chargeTokens(tokens);
    const run = await llm.runs.getIn(tx, call.run.id);
    await llm.meter.chargeIn(tx, run, { tokens, tokens_estimated: answer.usage.estimated });
    // Prompt and answer are not kept: they hold the message's words (the agent's own prompts
    // are payloads; a transform's would be raw content in the clear).
    await tx.append({
      ...base,
      data: {
        purpose: `transform.${kind}`,
        model: answer.model,
        stop_reason: answer.stop_reason,
        usage: answer.usage,
        outcome: usable ? 'ok' : 'invalid_output',
      },
    });
  }
}
