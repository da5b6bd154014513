import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import { payloadRefSchema } from '../../contracts/payloads.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import type { CallMeter } from './call-meter.ts';
import {
  errorOutcome,
  hashOrUndefined,
  recordedOutcome,
  replayableOutcome,
} from './call-outcome.ts';
import type { ExecuteCall } from './execute-call.ts';
import type { StepRecorder } from './step-recorder.ts';

export type CallLedgerDeps = {
  chain: CausalChain;
  payloads: PayloadStore;
  recorder: StepRecorder;
};

/** Said to the agent when a call it re-issues may already have had its effect. */
const OUTCOME_UNKNOWN_MESSAGE =
  'this call was started before and its outcome is unknown; check before retrying';

/** A call with a call id still running in this host, and the call it was (by `hashCall`). */
type InFlight = { callHash: string | undefined; outcome: Promise<ToolCallOutcome> };

/** What the record says of an earlier run of a call id. */
type Prior =
  undefined | { unknown: true } | { recorded: ToolCallOutcome | undefined; callHash: unknown };

/**
 * At most once per call id: a call the LLM re-issues (same run, same call id) is answered
 * from the recorded outcome, waits for the run of it still going in this host, or is refused
 * with CALL_OUTCOME_UNKNOWN when a run of it started and never ended; the same call id with
 * another call is refused as IDEMPOTENCY_CONFLICT. Only a call never seen runs.
 */
export class CallLedger {
  readonly #deps: CallLedgerDeps;
  /**
   * Calls with a call id running now, by run and step: a worker killed mid-call leaves its
   * call running here, and the next worker's re-issue waits for it instead of starting it
   * again (the step row alone would say only "started, outcome unknown").
   */
  readonly #inFlight = new Map<string, InFlight>();

  constructor(deps: CallLedgerDeps) {
    this.#deps = deps;
  }

  /** Runs `call` through `run` unless the ledger answers it; `call.call_id` must be set. */
  async once(
    call: ExecuteCall,
    meter: CallMeter,
    run: () => Promise<ToolCallOutcome>,
  ): Promise<ToolCallOutcome> {
    const key = `${call.run.id}\n${call.step_id}`;
    const callHash = hashOrUndefined(call.tool, call.params);
    const running = this.#inFlight.get(key);
    if (running !== undefined) {
      if (running.callHash !== callHash) return this.#conflict(call, meter);
      // Metered before it waits, as any call is before it does anything: a re-issue that
      // waits on the first run of it is a step the agent took.
      await this.#deps.recorder.meterNow(meter);
      const outcome = await running.outcome;
      await this.#recordReplay(call, meter, outcome, 'still_running');
      return outcome;
    }
    const outcome = this.#replayOrRun(call, meter, callHash, run);
    this.#inFlight.set(key, { callHash, outcome });
    try {
      return await outcome;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** A call with a call id and nothing of it running here: replay, refuse, or run it. */
  async #replayOrRun(
    call: ExecuteCall,
    meter: CallMeter,
    callHash: string | undefined,
    run: () => Promise<ToolCallOutcome>,
  ): Promise<ToolCallOutcome> {
    const prior = await this.#prior(call);
    if (prior === undefined) return run();
    if ('unknown' in prior || prior.recorded === undefined) {
      // At most once: the host died between starting this call and recording its end, so
      // its effect may have happened. Running it again could do it twice; the agent is told.
      await this.#deps.recorder.recordDecision(call, meter, 'call.outcome_unknown', {
        decision: 'refused',
      });
      return errorOutcome('CALL_OUTCOME_UNKNOWN', OUTCOME_UNKNOWN_MESSAGE);
    }
    if (typeof prior.callHash === 'string' && prior.callHash !== callHash) {
      return this.#conflict(call, meter);
    }
    await this.#recordReplay(call, meter, prior.recorded, 'recorded');
    return prior.recorded;
  }

  /** The step and `skill.execute` entry an earlier run of this call id left, if any. */
  async #prior(call: ExecuteCall): Promise<Prior> {
    return this.#deps.chain.transact(async (tx): Promise<Prior> => {
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
  }

  /** The same call id came with another tool or other params: not a re-issue, and not run. */
  async #conflict(call: ExecuteCall, meter: CallMeter): Promise<ToolCallOutcome> {
    await this.#deps.recorder.recordDecision(call, meter, 'call.id_reused', {
      decision: 'refused',
    });
    return errorOutcome(
      'IDEMPOTENCY_CONFLICT',
      `call id ${call.call_id ?? ''} was used before for a different call; nothing was run`,
    );
  }

  /** A re-issued call answered without running: only this decision is recorded. */
  async #recordReplay(
    call: ExecuteCall,
    meter: CallMeter,
    outcome: ToolCallOutcome,
    from: 'recorded' | 'still_running',
  ): Promise<void> {
    await this.#deps.recorder.recordDecision(call, meter, 'call.replayed', {
      decision: 'replayed',
      from,
      outcome: outcome.status,
    });
  }
}
