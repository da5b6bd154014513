import type { ToolDefinition } from '../../../contracts/skills.ts';
import { TRANSFORM_BUILTIN_TOOLS } from '../../skills/manifest/builtin-tools.ts';

/** The code of a call to a tool MCP clients are never offered. */
export const MCP_TOOL_NOT_OFFERED = 'MCP_TOOL_NOT_OFFERED';

/**
 * The transform tools, the verifier and declassify: the only road from quarantined raw content
 * to an agent, and declassify's way down to `public`. A supervised agent reads their
 * `pii.redacted` outputs inside a window the host labels and gates; an MCP client's model is
 * outside the host, so over MCP they would hand personal data derived from quarantined
 * messages to an external agent, which the contract denies by default.
 */
const NOT_OFFERED: ReadonlySet<string> = new Set(TRANSFORM_BUILTIN_TOOLS.map((t) => t.name));

/** Whether an MCP client may be listed, and call, this tool. */
export function offeredOverMcp(tool: string): boolean {
  return !NOT_OFFERED.has(tool);
}

/** The tools an MCP client is listed: every tool the registry offers but those above. */
export function mcpTools(all: readonly ToolDefinition[]): ToolDefinition[] {
  return all.filter((t) => offeredOverMcp(t.name));
}
