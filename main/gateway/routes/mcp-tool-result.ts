import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { SkillOperation } from '../../../contracts/skills.ts';

/** A pipeline outcome as an MCP result; structured content where the operation has a schema. */
export function resultOf(
  outcome: Exclude<ToolCallOutcome, { status: 'paused' }>,
  op: SkillOperation | undefined,
): CallToolResult {
  switch (outcome.status) {
    case 'ok': {
      const output = outcome.output ?? null;
      const structured =
        op?.output_schema !== undefined && isRecord(output) ? { structuredContent: output } : {};
      return { content: [{ type: 'text', text: JSON.stringify(output) }], ...structured };
    }
    case 'refused':
      return failure('REFUSED', outcome.reason);
    case 'error':
      return failure(outcome.code, outcome.message);
  }
}

export function failure(code: string, message: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    _meta: { 'ccos/code': code },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
