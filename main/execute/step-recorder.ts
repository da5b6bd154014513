import type { Logger } from 'pino';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { SkillListEntry } from '../../contracts/skills.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import { parseToolName } from '../skills/manifest/tool-definitions.ts';
import type { AutofillRecord } from './autofill.ts';
import type { CallMeter } from './call-meter.ts';
import { hashOrUndefined, outcomeLabel } from './call-outcome.ts';
import { entryOf, type ExecuteCall } from './execute-call.ts';
import { outcomeColumns, outcomeLabelsOf } from './outcome-labels.ts';

export type StepRecorderDeps = {
  chain: CausalChain;
  redactor: Redactor;
  payloads: PayloadStore;
  clock: Clock;
  /** The host's redacting logger: one summary line per call (never params or outputs). */
  logger: Logger;
};

/** Longest step summary kept (it is redacted first). */
const MAX_SUMMARY = 500;

/**
 * What a call leaves on record: its step row (started, then ended), its input and outcome
 * payloads, the `skill.execute` chain entry that names them by digest, the `policy.decision`
 * of a call answered without running, and a log line. Each write meters the call in the same
 * transaction, so a refused budget commits with what it decided.
 */
export class StepRecorder {
  readonly #deps: StepRecorderDeps;

  constructor(deps: StepRecorderDeps) {
    this.#deps = deps;
  }

  /** Meters the call in a transaction of its own (paths with no transaction to share). */
  async meterNow(meter: CallMeter): Promise<void> {
    const refusal = await this.#deps.chain.transact((tx) => meter.authorizeIn(tx, true));
    if (refusal !== undefined) throw refusal;
  }

  /** A `policy.decision` about the call (replayed, refused), metered with it. */
  async recordDecision(
    call: ExecuteCall,
    meter: CallMeter,
    rule: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    const refusal = await this.#deps.chain.transact(async (tx) => {
      const refused = await meter.authorizeIn(tx, true);
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

  /** Records the step as started (or again started, after a pause): it ends in `finish`. */
  async startStepIn(
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

  /** Records how the call ended and returns its outcome as the agent sees it (redacted). */
  async finish(
    call: ExecuteCall,
    meter: CallMeter,
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
      // What the output carries (issue 22): the LLM window that reads it joins these.
      ...outcomeColumns(outcomeLabelsOf(skill, call.tool, safeOutcome)),
    };
    const refusal = await this.#deps.chain.transact(async (tx) => {
      const refused = await meter.finishIn(tx);
      if (refused !== undefined) return refused;
      // Ends the step `startStepIn` started, or records one that never reached the sandbox.
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

  #summary(call: ExecuteCall, params: Record<string, unknown>): string {
    const redact = this.#deps.redactor;
    return redact
      .redactString(`${call.tool} ${JSON.stringify(redact.redactValue(params))}`)
      .slice(0, MAX_SUMMARY);
  }
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
    output_label?: string | null;
    output_taint?: string | null;
    output_source?: string | null;
  },
): Promise<void> {
  await tx.db
    .insertInto('steps')
    .values({ run_id: call.run.id, step_id: call.step_id, kind: 'skill', tokens: 0, ...row })
    .onConflict((oc) => oc.columns(['run_id', 'step_id']).doUpdateSet(row))
    .execute();
}
