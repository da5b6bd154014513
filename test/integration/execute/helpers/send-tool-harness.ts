import type { ToolCallOutcome } from '../../../../contracts/agent-channel.ts';
import type { PolicyPack } from '../../../../contracts/policy.ts';
import type { Run } from '../../../../contracts/runs.ts';
import { systemClock } from '../../../../main/clock.ts';
import { tryHashCall } from '../../../../main/execute/call-outcome.ts';
import type { CallWindow } from '../../../../main/execute/call-window.ts';
import { SendMessageTool } from '../../../../main/execute/send-message-tool.ts';
import type { DeliveryTransport } from '../../../../main/outbox/delivery-transport.ts';
import { LocalChatTransport } from '../../../../main/outbox/local-chat-transport.ts';
import { OutboxService } from '../../../../main/outbox/outbox-service.ts';
import { SEND_MESSAGE_TOOL } from '../../../../main/outbox/send-message-definition.ts';
import { WebhookTransport } from '../../../../main/outbox/webhook-transport.ts';
import { rawSql } from '../../../support/raw-sqlite.ts';
import { AGENT, startExecuteHost, type ExecuteTestHost } from './execute-host.ts';

/** The connector ids the harness can send on: a webhook (off the machine) and the local chat. */
export const HOOK = 'hook';
export const LOCAL_CHAT = 'local-chat';

export type SendToolHarness = {
  h: ExecuteTestHost;
  /** One `ccos__send_message` call of `run`, asked by an answer with `window`, to `connector`/`channel`. */
  send: (
    run: Run,
    window: CallWindow,
    text: string,
    target?: { connector_id: string; channel_id: string },
  ) => Promise<ToolCallOutcome>;
  /** How many outbox rows the run queued. */
  queued: (runId: string) => Promise<number>;
};

/**
 * `SendMessageTool` on a real host's chain, approvals and store, with a webhook transport to
 * a closed port and a real local chat transport: the tests judge what is queued, never sent.
 * `packs` are registered besides the execute host's own.
 */
export async function startSendToolHarness(packs: PolicyPack[]): Promise<SendToolHarness> {
  const h = await startExecuteHost({ policyPacks: packs });
  const { started } = h;
  const clock = systemClock();
  const webhook = new WebhookTransport({
    urlFor: () => 'http://127.0.0.1:9/hook',
    allowLoopbackHttp: true,
    timeoutMs: 1_000,
    clock,
  });
  const localChat = new LocalChatTransport({ chain: started.chain });
  const transports = (id: string): DeliveryTransport | undefined =>
    id === HOOK ? webhook : id === LOCAL_CHAT ? localChat : undefined;
  const outbox = new OutboxService({
    clock,
    redactor: started.redactor,
    transports,
    queued: () => undefined,
  });
  const tool = new SendMessageTool({
    chain: started.chain,
    outbox,
    policies: started.policies,
    approvals: started.approvals,
    redactor: started.redactor,
  });
  let steps = 0;
  const send: SendToolHarness['send'] = (run, window, text, target) => {
    const params = { connector_id: HOOK, channel_id: 'c-1', ...target, text };
    const matchKey = tryHashCall(SEND_MESSAGE_TOOL, params);
    if (typeof matchKey !== 'string') throw new Error('unhashable params');
    steps += 1;
    const call = {
      run,
      step_id: `stp_send_${String(steps)}`,
      segment: 0,
      tool: SEND_MESSAGE_TOOL,
      params,
      ctx: AGENT,
      window,
    };
    return tool.run(call, matchKey, { startStepIn: () => Promise.resolve() });
  };
  const queued = async (runId: string) =>
    (await rawSql(h.databaseFile, 'select id from outbox where run_id = ?', [runId])).length;
  return { h, send, queued };
}
