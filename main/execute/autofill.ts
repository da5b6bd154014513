import type { SkillOperation, SkillPermissions } from '../../contracts/skills.ts';
import { autofillFields, autofillPermitted } from '../skills/manifest/autofill-grants.ts';

/** Where a filled value came from, recorded on the step. */
export type AutofillRecord = { field: string; source: string };

/** Reads the values autofill may use; only allowlisted sources are ever asked for. */
export type AutofillContext = {
  runGoal: string;
  runId: string;
  /** A shared namespace's item as this run may read it (audience, expiry). */
  readMemory: (namespace: string, key: string, runId: string) => Promise<unknown>;
};

const MEMORY_SOURCE = /^memory:([a-z0-9][a-z0-9_-]*)\.([A-Za-z0-9_.-]+)$/;

/**
 * Fills parameters the caller left out, only from context both the policy allowlists and the
 * skill's declared permissions cover (step 3 of the execute pipeline): a property opts in
 * with `"x-ccos-autofill": "<source>"`; a source off the allowlist, or memory of a namespace
 * the skill never declared, is ignored, never guessed. Given parameters are never overwritten.
 */
export async function autofill(
  params: Readonly<Record<string, unknown>>,
  op: SkillOperation,
  permissions: SkillPermissions,
  allowlist: readonly string[],
  context: AutofillContext,
): Promise<{ params: Record<string, unknown>; fills: AutofillRecord[] }> {
  const filled: Record<string, unknown> = { ...params };
  const fills: AutofillRecord[] = [];
  for (const { field, source } of autofillFields(op)) {
    if (field in filled || !isAllowed(source, allowlist)) continue;
    // The skill's consent lists only what its permissions cover: nothing else reaches it.
    if (!autofillPermitted(source, permissions)) continue;
    const value = await read(source, context);
    if (value === undefined || value === null) continue;
    filled[field] = value;
    fills.push({ field, source });
  }
  return { params: filled, fills };
}

/** `memory:profile.*` allows every key of `profile`; other entries match exactly. */
export function isAllowed(source: string, allowlist: readonly string[]): boolean {
  return allowlist.some((entry) =>
    entry.endsWith('.*')
      ? source.startsWith(entry.slice(0, -1)) && source.length > entry.length - 1
      : entry === source,
  );
}

async function read(source: string, context: AutofillContext): Promise<unknown> {
  if (source === 'run.goal') return context.runGoal;
  if (source === 'run.id') return context.runId;
  const memory = MEMORY_SOURCE.exec(source);
  if (memory !== null) return context.readMemory(memory[1] ?? '', memory[2] ?? '', context.runId);
  return undefined;
}
