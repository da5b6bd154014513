import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import { sendMessageInputSchema, type SendMessageInput } from '../../contracts/outbox.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { isAppError } from '../errors.ts';
import type { OutboxService } from '../outbox/outbox-service.ts';
import { DEFAULT_OUTBOX_SETTINGS, refuseOutboundIn } from '../outbox/outbox-service.ts';
import { resolveChannelIn } from '../outbox/outbound-channels.ts';
import { OUTBOUND_RULES, outboundLabelVerdict } from '../outbox/outbound-gate.ts';
import { UNKNOWN } from '../policy/labels.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import { refusalOf } from './approval-refusal.ts';
import { errorOutcome } from './call-outcome.ts';
import { entryOf, type ExecuteCall } from './execute-call.ts';
import { builtinEffectAsk } from './taint-gate.ts';

export type SendMessageToolDeps = {
  chain: CausalChain;
  outbox: OutboxService;
  policies: PolicyPacks;
  approvals: ApprovalService;
  redactor: Redactor;
};

/**
 * `ccos__send_message`: queues one message in the outbox in the transaction that starts the
 * call's step, so the step and its message commit together — a host that dies before the
 * commit sent nothing, one that dies after it delivers the queued row, and the call ledger
 * answers a re-issued call without queueing again. The message's label is the window of the
 * LLM answer that asked for it (the text derives from everything the model saw); without a
 * window (a client whose model the host does not see) it counts as unknown and is refused.
 * Asked from an untrusted window, it first needs a person's approval (the taint gate): a
 * hostile message must not be able to make the agent speak unseen. No standing grant covers
 * it; each such message is shown.
 */
export class SendMessageTool {
  readonly #deps: SendMessageToolDeps;

  constructor(deps: SendMessageToolDeps) {
    this.#deps = deps;
  }

  async run(
    call: ExecuteCall,
    matchKey: string,
    step: { startStepIn: (tx: ChainTx) => Promise<void> },
  ): Promise<ToolCallOutcome> {
    const parsed = sendMessageInputSchema.safeParse(call.params);
    if (!parsed.success) {
      const list = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return errorOutcome('INVALID_INPUT', `invalid parameters for ${call.tool}: ${list}`);
    }
    const input = parsed.data;
    const pack = this.#deps.policies.forRun(call.run);
    const who = {
      label: call.window?.label ?? UNKNOWN,
      run_id: call.run.id,
      step_id: call.step_id,
      session_id: call.run.session_id,
      actor: call.ctx.actor,
    };
    const result = await this.#deps.chain
      .transact(async (tx) => {
        // --- outbox wiring (issue 23): the run's own channels, or its pack's ---
        const channel = await resolveChannelIn(tx.db, call.run, pack, input);
        if (!channel.ok)
          return {
            ok: false as const,
            error: await refuseOutboundIn(
              tx,
              { ...who, connector_id: input.connector_id ?? '(reply)' },
              { rule_id: OUTBOUND_RULES.channel, reason: channel.reason },
            ),
          };
        const { target } = channel;
        // Judged before anyone is asked: a person never approves a message that cannot leave.
        const judged = this.#deps.outbox.judge({
          connector_id: target.connector_id,
          content: { text: input.text },
          label: who.label,
        });
        const byLabel = judged.ok
          ? outboundLabelVerdict(who.label, pack, judged.onMachine)
          : ({ kind: 'deny', refusal: judged.refusal } as const);
        if (byLabel.kind === 'deny')
          return {
            ok: false as const,
            error: await refuseOutboundIn(
              tx,
              { ...who, connector_id: target.connector_id },
              byLabel.refusal,
            ),
          };
        const gated = await this.#approvalGateIn(
          tx,
          call,
          matchKey,
          input,
          `${target.connector_id}/${target.channel_id}`,
          byLabel.kind === 'ask' ? byLabel.rule_id : undefined,
        );
        if (gated !== undefined) return { ok: true as const, gated };
        const sent = await this.#deps.outbox.sendIn(tx, {
          ...who,
          connector_id: target.connector_id,
          channel_id: target.channel_id,
          content: {
            text: input.text,
            ...(target.reply_to === undefined ? {} : { reply_to: target.reply_to }),
          },
          idempotency_key: input.idempotency_key,
          max_attempts: pack.outbox_max_attempts ?? DEFAULT_OUTBOX_SETTINGS.max_attempts,
        });
        if (sent.ok) await step.startStepIn(tx);
        return sent;
      })
      .catch((e: unknown) => {
        if (isAppError(e, 'IDEMPOTENCY_CONFLICT')) return { ok: false as const, error: e };
        throw e;
      });
    if (!result.ok) return { status: 'refused', reason: result.error.message };
    if ('gated' in result) return result.gated;
    return {
      status: 'ok',
      output: { outbox_id: result.message.id, state: result.message.state },
    };
  }

  /**
   * Undefined when the message may go on (neither the taint gate nor egress by label asks, or
   * a person approved this very call, whose approval is spent here); else the pause or the
   * refusal to answer with.
   */
  async #approvalGateIn(
    tx: ChainTx,
    call: ExecuteCall,
    matchKey: string,
    input: SendMessageInput,
    destination: string,
    labelRule: string | undefined,
  ): Promise<ToolCallOutcome | undefined> {
    const { approvals, redactor } = this.#deps;
    const usable = await approvals.findUsableIn(tx, call.run.id, matchKey);
    for (const a of usable) await approvals.consumeIn(tx, a.id);
    const decided = usable.find((a) => a.kind === 'operation');
    if (decided !== undefined) {
      const refusal = refusalOf(decided, call.tool);
      return refusal === undefined ? undefined : { status: 'refused', reason: refusal };
    }
    const pack = this.#deps.policies.forRun(call.run);
    const ask = builtinEffectAsk(
      call.window,
      pack,
      `the agent wants to send a message to ${destination}`,
      { labelRule },
    );
    if (ask === undefined) return undefined;
    await tx.append({
      ...entryOf(call),
      event_type: 'policy.decision',
      rule_id: ask.rule_id,
      data: { tool: call.tool, decision: 'approval_required', ...ask.request },
    });
    const { approval } = await approvals.requestAndPauseIn(
      tx,
      {
        run_id: call.run.id,
        step_id: call.step_id,
        kind: 'operation',
        scope: call.tool,
        justification: redactor.redactString(ask.justification),
        permission_diff: [{ permission: `send a message to ${destination}`, to: 'once' }],
        // The person decides on the message as it would leave (secrets masked).
        request: { tool: call.tool, params: redactor.redactValue(input), ...ask.request },
        match_key: matchKey,
        rule_id: ask.rule_id,
      },
      call.ctx,
    );
    return {
      status: 'paused',
      reason: `waiting for approval to run ${call.tool}`,
      approval_id: approval.id,
    };
  }
}
