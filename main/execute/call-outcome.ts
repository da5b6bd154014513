import { createHash } from 'node:crypto';
import { toolCallOutcomeSchema, type ToolCallOutcome } from '../../contracts/agent-channel.ts';
import { canonicalJson } from '../chain/canonical-json.ts';

/*
 * A tool call's identity and outcomes as the execute pipeline records and replays them:
 * pure functions, shared by the gate, the recorder and the replay of a re-issued call.
 */

/** Identifies one call: the tool and its parameters as the agent gave them. */
export function hashCall(tool: string, params: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson({ tool, params })).digest('hex');
}

/** `hashCall`, or an INVALID_INPUT outcome when the params are not canonical JSON. */
export function tryHashCall(
  tool: string,
  params: Record<string, unknown>,
): string | ToolCallOutcome {
  try {
    return hashCall(tool, params);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return errorOutcome(
      'INVALID_INPUT',
      `invalid parameters for ${tool}: ${e.message.replace(/^canonicalJson: /, '')} (strings must be well-formed Unicode, numbers finite)`,
    );
  }
}

/** `hashCall` of a call, or undefined when its params cannot be hashed. */
export function hashOrUndefined(tool: string, params: Record<string, unknown>): string | undefined {
  const hash = tryHashCall(tool, params);
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * A recorded outcome payload (`tool.outcome`) to replay, or undefined when it is not one
 * (a pause is not final; stored data is parsed, not trusted).
 */
export function replayableOutcome(content: unknown): ToolCallOutcome | undefined {
  const parsed = toolCallOutcomeSchema.safeParse(content);
  return parsed.success && parsed.data.status !== 'paused' ? parsed.data : undefined;
}

/**
 * The final outcome a `skill.execute` entry written before payloads existed (issue 17 #15)
 * held inline, or undefined when there is none to replay (a pause, or an entry this version
 * cannot read). Chain data is parsed, not trusted.
 */
export function recordedOutcome(data: Record<string, unknown>): ToolCallOutcome | undefined {
  const candidate =
    data.outcome === 'ok'
      ? { status: 'ok', output: data.output }
      : data.outcome === 'refused'
        ? {
            status: 'refused',
            reason: typeof data.reason === 'string' ? data.reason : 'the call was refused',
          }
        : data.outcome === 'error'
          ? { status: 'error', code: data.code, message: data.message }
          : undefined;
  const parsed = toolCallOutcomeSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

export function errorOutcome(code: string, message: string): ToolCallOutcome {
  return { status: 'error', code, message };
}

export function outcomeLabel(outcome: ToolCallOutcome): string {
  return outcome.status === 'error' ? `error:${outcome.code}` : outcome.status;
}
