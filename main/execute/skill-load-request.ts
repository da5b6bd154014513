import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { permissionChangeSchema } from '../../contracts/approvals.ts';
import { canonicalJson } from '../chain/canonical-json.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { CompiledSkill } from '../skills/declarative/compile-declarative-skill.ts';
import { autofillGrants } from '../skills/manifest/autofill-grants.ts';
import { secretGrants } from '../skills/manifest/secret-grants.ts';
import { SKILL_LOAD_TOOL } from '../skills/manifest/builtin-tools.ts';
import type { DocumentFetchAudit, InstallResult } from '../skills/install/skill-service.ts';

/** What `ccos__skill_load` needs of the skill service: compile without installing, then install. */
export type SkillLoading = {
  compileFromUrl: (
    url: string,
    options: { force?: boolean; audit: DocumentFetchAudit },
  ) => Promise<CompiledSkill>;
  installCompiled: InstallCompiled;
};
type InstallCompiled = (
  compiled: CompiledSkill,
  ctx: { actor: string; correlation_id?: string | null },
) => Promise<InstallResult>;

export type SkillLoadInput = { url: string; force: boolean };

/** The tool's params, checked by hand (the tool has no skill, hence no registry validator). */
export function parseSkillLoadInput(params: Record<string, unknown>): SkillLoadInput | string {
  const extra = Object.keys(params).filter((k) => k !== 'url' && k !== 'force');
  if (extra.length > 0) return `unknown parameter(s) ${extra.join(', ')}; expected url, force`;
  const { url, force } = params;
  if (typeof url !== 'string' || url.length === 0 || url.length > 2048)
    return 'url must be the https URL of a skill.md or skill.yaml (at most 2048 characters)';
  if (force !== undefined && typeof force !== 'boolean') return 'force must be a boolean';
  return { url, force: force ?? false };
}

/**
 * Identifies exactly what a person approved: the compiled manifest and the entry generated
 * from it, as canonical JSON. The re-issued call installs only a compilation with this hash.
 */
export function compiledHash(compiled: CompiledSkill): string {
  return createHash('sha256')
    .update(canonicalJson({ manifest: compiled.manifest, entry: compiled.entry }))
    .digest('hex');
}

/** Where the approval request keeps the hash (outside the redacted part, which could mask it). */
export const COMPILED_HASH_FIELD = 'compiled_sha256';

/** What an approval of a skill load shows the person. */
export type ShownApproval = {
  scope: string;
  justification: string;
  request: Record<string, unknown>;
  permission_diff: z.infer<typeof permissionChangeSchema>[];
};

/**
 * The `policy_exception` approval to fetch a skill document: the exact URL, shown before any
 * request leaves, because the path and query are the agent's words and reach the origin.
 * A URL carrying a value the host holds as a secret is shown masked and flagged.
 */
export function skillFetchApproval(
  input: SkillLoadInput,
  url: URL,
  redactor: Redactor,
): ShownApproval {
  const shownUrl = redactor.redactString(input.url);
  const secret =
    shownUrl === input.url
      ? ''
      : ' WARNING: the URL contains a secret the host knows, or something that looks like one (shown masked); deny unless you expected that.';
  return {
    scope: shownUrl,
    justification: `the agent wants to fetch ${shownUrl} to read a skill document from it; nothing has been sent yet, and everything in the URL (its path and query) will reach ${url.origin}. If the document is a skill, you will be asked again, with what it could reach, before anything is installed.${secret}`,
    request: { tool: SKILL_LOAD_TOOL, url: shownUrl, origin: url.origin, force: input.force },
    permission_diff: [{ permission: 'egress', to: `GET ${shownUrl}` }],
  };
}

/**
 * The `capability` approval of a skill load: what the skill is and exactly what it would be
 * allowed to reach (egress origins and methods, secret names, memory namespaces), both as
 * the request shown to the person and as grants in the permission diff.
 */
export function skillLoadApproval(input: SkillLoadInput, compiled: CompiledSkill): ShownApproval {
  const m = compiled.manifest;
  const capabilities = [...new Set(m.operations.flatMap((o) => o.capabilities))].sort();
  const grants = autofillGrants(m);
  return {
    scope: m.skill_id,
    justification: `the agent wants to load the skill ${m.name} ${m.version} from ${input.url}; once loaded, its ${m.operations.length} operation(s) become tools it can call`,
    request: {
      tool: SKILL_LOAD_TOOL,
      url: input.url,
      force: input.force,
      skill_id: m.skill_id,
      name: m.name,
      version: m.version,
      description: m.description,
      operations: m.operations.map((o) => ({
        id: o.id,
        description: o.description,
        approval: o.approval,
        capabilities: o.capabilities,
      })),
      permissions: m.permissions,
      autofill: grants,
      onboarding: (m.onboarding ?? []).map((s) => ({ id: s.id, kind: s.kind })),
    },
    permission_diff: [
      { permission: 'skill.load', to: `${m.skill_id}@${m.version}` },
      ...capabilities.map((c) => ({ permission: 'capability', to: c })),
      ...m.permissions.egress.map((e) => ({
        permission: 'egress',
        to: `${e.methods.join('/')} ${e.origin}`,
      })),
      ...secretGrants(m.permissions).map((s) => ({
        permission: 'secret',
        to: `${s.name} (sent only to ${s.origins.join(', ')})`,
      })),
      ...m.permissions.memory_namespaces.map((n) => ({ permission: 'memory', to: n })),
      ...grants.map((g) => ({
        permission: 'autofill',
        to: `${g.operation_id}.${g.field} from ${g.source}`,
      })),
    ],
  };
}
