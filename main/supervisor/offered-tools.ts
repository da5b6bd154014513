import type { PolicyPack } from '../../contracts/policy.ts';
import type { Run } from '../../contracts/runs.ts';
import type { ToolDefinition } from '../../contracts/skills.ts';
import { TRANSFORM_BUILTIN_TOOLS } from '../skills/manifest/builtin-tools.ts';
import type { Db } from '../store/schema.ts';

const TRANSFORM_TOOL_NAMES: ReadonlySet<string> = new Set(
  TRANSFORM_BUILTIN_TOOLS.map((t) => t.name),
);

/**
 * The tools a run's agent is offered (issue 22): every loaded one, except the transform
 * tools, the verifier and declassify while the run's session has nothing they could read —
 * no unexpired quarantined content and no transform output. Each tool definition is prompt
 * tokens on every LLM call of the run, and a tool that can only fail invites the model to
 * try it. The pack's `transform_tools: always` offers them anyway. Calling one that was not
 * offered changes nothing: the transforms read only the run's own session's pointers.
 */
export async function offeredToolsOf(
  db: Db,
  run: Pick<Run, 'session_id'>,
  pack: Pick<PolicyPack, 'transform_tools'>,
  tools: readonly ToolDefinition[],
  now: Date,
): Promise<ToolDefinition[]> {
  if ((pack.transform_tools ?? 'when_quarantined') === 'always') return [...tools];
  if (await hasTransformableContent(db, run.session_id, now)) return [...tools];
  return tools.filter((t) => !TRANSFORM_TOOL_NAMES.has(t.name));
}

async function hasTransformableContent(db: Db, sessionId: string, now: Date): Promise<boolean> {
  const quarantined = await db
    .selectFrom('quarantine')
    .select('pointer')
    .where('session_id', '=', sessionId)
    .where('expires_at', '>', now.toISOString())
    .limit(1)
    .executeTakeFirst();
  if (quarantined !== undefined) return true;
  // Outputs made earlier in the session still need the verifier and declassify.
  const output = await db
    .selectFrom('transform_outputs')
    .select('id')
    .where('session_id', '=', sessionId)
    .limit(1)
    .executeTakeFirst();
  return output !== undefined;
}
