import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../../../contracts/skills.ts';
import { listTools, MCP_TOOLS_PAGE } from '../../../main/gateway/routes/mcp-route.ts';

function tool(i: number, approval: ToolDefinition['approval']): ToolDefinition {
  return {
    name: `s__op${i}`,
    description: `op ${i}`,
    parameters: { type: 'object', properties: {} },
    skill_id: 's',
    operation_id: `op${i}`,
    approval,
  };
}

describe('MCP tools/list pages (issue 25)', () => {
  const all = Array.from({ length: MCP_TOOLS_PAGE * 2 + 3 }, (_, i) =>
    tool(i, i % 2 === 0 ? 'never' : 'always'),
  );

  it('pages every tool exactly once with the cursor, and annotates what needs approval', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = listTools(all, cursor);
      seen.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(all.map((t) => t.name));
    const first = listTools(all, undefined).tools;
    expect(first[0]?.annotations?.readOnlyHint).toBe(true);
    expect(first[1]?.annotations?.readOnlyHint).toBe(false);
  });

  it('refuses a forged cursor as invalid params rather than listing from anywhere', () => {
    for (const cursor of ['-1', '1e3', ' 50', '999999', 'abc', '50.5']) {
      expect(() => listTools(all, cursor)).toThrow(McpError);
    }
  });
});
