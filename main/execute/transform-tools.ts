import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { TransformKind } from '../../contracts/transforms.ts';
import { isAppError } from '../errors.ts';
import { TRANSFORM_TOOLS, VERIFY_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { TransformResult, TransformService } from '../transforms/transform-service.ts';
import { errorOutcome } from './call-outcome.ts';
import type { ExecuteCall } from './execute-call.ts';

const KIND_OF_TOOL: ReadonlyMap<string, TransformKind> = new Map(
  (Object.entries(TRANSFORM_TOOLS) as [TransformKind, string][]).map(([kind, tool]) => [
    tool,
    kind,
  ]),
);

/** True for `ccos__transform_summarize|extract|redact|verify`. */
export function isTransformTool(tool: string): boolean {
  return KIND_OF_TOOL.has(tool) || tool === VERIFY_TOOL;
}

/**
 * The agent's transform tools. Bound to the calling run: the pointer or output id must
 * belong to the run's own session, whatever the agent was told elsewhere (a pointer is not
 * an authorisation); the refusal is on the chain with its rule.
 */
export async function runTransformTool(
  transforms: TransformService,
  call: ExecuteCall,
): Promise<ToolCallOutcome> {
  const bound = { run: call.run, step_id: call.step_id, ctx: call.ctx };
  let result: TransformResult;
  try {
    const kind = KIND_OF_TOOL.get(call.tool);
    result =
      kind === undefined
        ? await transforms.verify(call.params, bound)
        : await transforms.run(kind, call.params, bound);
  } catch (e) {
    if (!isAppError(e)) throw e;
    return errorOutcome(e.code, e.message);
  }
  return result.ok
    ? { status: 'ok', output: result.value }
    : { status: 'refused', reason: result.refused };
}
