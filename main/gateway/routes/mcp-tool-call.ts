import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ClientCapabilities,
  ElicitRequestFormParams,
  ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Approval, FormField } from '../../../contracts/approvals.ts';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import { newId } from '../../clock.ts';
import { isAppError } from '../../errors.ts';
import type { ExecuteCall } from '../../execute/execute-pipeline.ts';
import { tryHashCall } from '../../execute/call-outcome.ts';
import type { PolicyPacks } from '../../policy/policy-packs.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { ExternalRun } from '../../runs/external-run.ts';
import { waitForDecision } from './mcp-approval-wait.ts';
import { appendMcpDecision } from './mcp-decision.ts';
import type { McpClientWindow } from './mcp-client-window.ts';
import { MCP_TOOL_NOT_OFFERED, offeredOverMcp } from './mcp-offered-tools.ts';
import { exposedResult, type ExposureDeps } from './mcp-result-exposure.ts';
import { failure } from './mcp-tool-result.ts';

/** How long a call waits for a person when its pack does not say. */
export const DEFAULT_MCP_CALL_WAIT_MS = 60_000;

/**
 * Rounds of one call: missing input answered, then an operation approval decided, then the
 * run. More would mean the gate keeps asking; the client is told to call again instead.
 */
const MAX_ROUNDS = 4;

/** `rule_id` of the refusal of a tool MCP clients are never offered. */
const RULE_MCP_TOOL_NOT_OFFERED = 'mcp.tool_not_offered';

/** Recorded as the reason of a missing-input answer given through MCP elicitation. */
export const ELICITED_REASON = 'answered in the MCP client (elicitation)';

export type McpCallDeps = ExposureDeps & {
  /** The execute pipeline: the same door the agent channel uses. */
  pipeline: { execute: (call: ExecuteCall) => Promise<ToolCallOutcome> };
  approvals: ApprovalService;
  chain: CausalChain;
  policies: PolicyPacks;
};

/** What a call needs of the SDK's server: the client's capabilities, and elicitation. */
export type McpPeer = {
  getClientCapabilities: () => ClientCapabilities | undefined;
  elicitInput: (params: ElicitRequestFormParams, options?: RequestOptions) => Promise<ElicitResult>;
};

/** One `tools/call` as the MCP session sees it. */
export type McpCall = {
  run: ExternalRun;
  actor: string;
  correlation_id: string | null;
  server: McpPeer;
  tool: string;
  params: Record<string, unknown>;
  /** What the host gave the session so far: the window its calls are judged by (issue 22). */
  window: McpClientWindow;
  /** Aborted by the client's `notifications/cancelled` for this request. */
  signal: AbortSignal;
  /**
   * Aborted when the session ends under the call (host stop, revoked token), its reason
   * saying why: a call waiting for a person then answers so, instead of being cut off.
   */
  ending: AbortSignal;
  /** Sends a progress notification when the client asked for them (a no-op otherwise). */
  progress: (message: string) => Promise<void>;
};

/**
 * `tools/call` through the execute pipeline (issue 25): validation, auto-fill, approvals, the
 * isolate, output validation, redaction, the step and its chain entries, exactly as for an
 * agent. What needs a person pauses only this call: missing input is asked through
 * elicitation when the client can; otherwise, and for approvals, the call waits a bounded time
 * for the decision made in CCOS, then runs or says what it waits for. Tool failures are
 * `isError` results carrying the stable code, never protocol errors.
 */
export async function callTool(deps: McpCallDeps, call: McpCall): Promise<CallToolResult> {
  const pack = deps.policies.get(call.run.run.policy_pack);
  if (!offeredOverMcp(call.tool)) return notOffered(deps, call);
  const waitMs = pack.mcp_call_wait_ms ?? DEFAULT_MCP_CALL_WAIT_MS;
  const matchKey = tryHashCall(call.tool, call.params);
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    // A re-issued call whose approval still waits waits on it: it does not ask twice.
    const waiting =
      typeof matchKey === 'string'
        ? await deps.approvals.findPending(call.run.run.id, matchKey)
        : undefined;
    const stepId = newId('stp');
    const outcome =
      waiting === undefined ? await execute(deps, call, pack, stepId) : pausedOn(waiting);
    if ('result' in outcome) return outcome.result;
    if (outcome.status !== 'paused') return exposedResult(deps, call, pack, outcome, stepId);
    const approval = await deps.approvals.get(outcome.approval_id);
    if (approval.kind === 'missing_input' && canElicit(call.server)) {
      const elicited = await elicit(deps, call, approval);
      if (elicited !== undefined) return elicited;
      if ((await deps.approvals.get(approval.id)).state !== 'pending') continue;
    }
    await call.progress(waitingMessage(approval));
    const wait = await waitForDecision(deps, approval.id, waitMs, stopSignal(call));
    if (wait === 'cancelled') return stopped(deps, call, approval, 'waited');
    if (wait === 'timed_out') return failure('APPROVAL_REQUIRED', waitingMessage(approval));
  }
  return failure('APPROVAL_REQUIRED', `${call.tool} still needs a decision: call it again`);
}

async function execute(
  deps: McpCallDeps,
  call: McpCall,
  pack: PolicyPack,
  stepId: string,
): Promise<ToolCallOutcome | { result: CallToolResult }> {
  try {
    return await call.run.inFlight(() =>
      deps.pipeline.execute({
        run: call.run.run,
        meter: call.run.meter,
        step_id: stepId,
        segment: 0,
        tool: call.tool,
        params: call.params,
        ctx: { actor: call.actor, correlation_id: call.correlation_id },
        // The taint gate and egress by label judge the call by what the host can stand behind.
        window: call.window.windowFor(pack, call.params),
      }),
    );
  } catch (e) {
    // The meter's refusals (a spent budget, an ended run) are the call's answer.
    if (isAppError(e)) return { result: failure(e.code, e.message) };
    throw e;
  }
}

/**
 * A call to a tool MCP clients are never offered (the transforms, the verifier, declassify):
 * refused before the pipeline, on the chain, with a stable code.
 */
async function notOffered(deps: McpCallDeps, call: McpCall): Promise<CallToolResult> {
  const reason = `${call.tool} is not offered to MCP clients: the transform tools, the verifier and declassify serve supervised agents only`;
  await appendMcpDecision(deps.chain, call, {
    step_id: null,
    rule_id: RULE_MCP_TOOL_NOT_OFFERED,
    data: { decision: 'refused', reason },
  });
  return failure(MCP_TOOL_NOT_OFFERED, reason);
}

function pausedOn(approval: Approval): ToolCallOutcome {
  return { status: 'paused', approval_id: approval.id, reason: approval.justification };
}

function canElicit(server: McpPeer): boolean {
  return server.getClientCapabilities()?.elicitation !== undefined;
}

/**
 * Asks the person in the client for the missing fields. An answer is recorded as an inbox
 * answer would be (the approval's decision, validated against the operation's schema); a
 * decline refuses the call. Returns a final result, or undefined to go on (answered, declined,
 * or dismissed: then the call waits for the inbox like any other).
 */
async function elicit(
  deps: McpCallDeps,
  call: McpCall,
  approval: Approval,
): Promise<CallToolResult | undefined> {
  const form = (approval.request as { form?: FormField[] }).form ?? [];
  let answer;
  try {
    answer = await call.server.elicitInput(
      { mode: 'form', message: approval.justification, requestedSchema: flatSchema(form) },
      { signal: stopSignal(call) },
    );
  } catch {
    if (stopSignal(call).aborted) return stopped(deps, call, approval, 'asked for input');
    // A client that declared the capability and then failed it: the inbox still works.
    return undefined;
  }
  const ctx = { actor: call.actor, correlation_id: call.correlation_id };
  try {
    if (answer.action === 'accept') {
      await deps.approvals.decide(
        approval.id,
        { decision: 'approve', answer: answer.content ?? {}, reason: ELICITED_REASON },
        ctx,
      );
    } else if (answer.action === 'decline') {
      await deps.approvals.decide(
        approval.id,
        { decision: 'deny', reason: 'declined in the MCP client' },
        ctx,
      );
    }
  } catch (e) {
    // An answer that does not fit the form: the approval stays open for another try.
    if (isAppError(e, 'INVALID_INPUT')) return failure(e.code, e.message);
    if (!isAppError(e, 'CONFLICT')) throw e;
  }
  return undefined;
}

/** The form as MCP elicitation's flat schema: top-level primitives and string enums only. */
export function flatSchema(form: readonly FormField[]): ElicitRequestFormParams['requestedSchema'] {
  const properties: ElicitRequestFormParams['requestedSchema']['properties'] = {};
  for (const field of form) {
    const description = field.description === null ? {} : { description: field.description };
    const choices = field.enum?.filter((c) => typeof c === 'string') ?? [];
    properties[field.name] = flatField(field, choices, description);
  }
  return {
    type: 'object',
    properties,
    required: form.filter((f) => f.required).map((f) => f.name),
  };
}

function flatField(
  field: FormField,
  choices: string[],
  description: { description?: string },
): ElicitRequestFormParams['requestedSchema']['properties'][string] {
  const title = field.name;
  switch (field.type) {
    case 'string':
      return choices.length > 0
        ? { type: 'string', title, enum: choices, ...description }
        : { type: 'string', title, ...description };
    case 'number':
    case 'integer':
      return { type: field.type, title, ...description };
    case 'boolean':
      return { type: 'boolean', title, ...description };
  }
}

/** What ends a wait for a person early: the client's cancellation, or the session's end. */
function stopSignal(call: McpCall): AbortSignal {
  return AbortSignal.any([call.signal, call.ending]);
}

/**
 * A wait stopped before the person decided: by the client (`mcp.call_cancelled`: the
 * approval stays in the inbox), or by the session ending under it (`mcp.call_session_ended`:
 * the host stopped, the token was revoked; the run ends next, and its approvals expire).
 */
async function stopped(
  deps: McpCallDeps,
  call: McpCall,
  approval: Approval,
  doing: string,
): Promise<CallToolResult> {
  const ended = call.ending.aborted;
  const why = typeof call.ending.reason === 'string' ? call.ending.reason : 'the session ended';
  await appendMcpDecision(deps.chain, call, {
    step_id: approval.step_id,
    rule_id: ended ? 'mcp.call_session_ended' : 'mcp.call_cancelled',
    data: {
      decision: ended ? 'ended' : 'cancelled',
      approval_id: approval.id,
      ...(ended ? { reason: why } : {}),
    },
  });
  return ended
    ? failure(
        'RUN_ENDED',
        `the MCP session ended (${why}) while ${call.tool} ${doing}: nothing ran; call it again in a new session`,
      )
    : failure('CANCELLED', `the client cancelled ${call.tool} while it ${doing}`);
}

function waitingMessage(approval: Approval): string {
  return `waiting for approval ${approval.id}: decide in CCOS (Approvals, or \`ccos approvals approve ${approval.id}\`), then call this tool again with the same arguments`;
}
