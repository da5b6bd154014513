import { createHash } from 'node:crypto';
import type { Approval, ApprovalKind } from '../../contracts/approvals.ts';
import type { GrantBasis } from '../../contracts/grants.ts';
import type { SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import { canonicalJson } from '../chain/canonical-json.ts';

/** Bumped when what the key covers changes, so an old grant can never match a new meaning. */
const GRANT_KEY_FORMAT = 'ccos-grant/1';

/**
 * What a standing grant of this approval would match (issue 22): the approval's kind, the
 * operation, the skill's version and digest, the permission diff exactly as shown (order
 * aside) and whether the taint gate asked. The call's arguments are not part of it: the
 * diff a person sees names what the operation may reach, not the values it is called with,
 * so a grant covers the operation under that diff whatever the arguments (docs/decisions.md).
 */
export function grantBasisOf(input: {
  kind: ApprovalKind;
  tool: string;
  skill: SkillListEntry;
  op: SkillOperation;
  skillDigest: string;
  permissionDiff: Approval['permission_diff'];
  /** The request the approval would show; the taint gate marks it `taint_gate: true`. */
  request: Record<string, unknown>;
}): GrantBasis {
  const taintGated = input.request.taint_gate === true;
  const diff = input.permissionDiff.map((c) => canonicalJson(c)).sort();
  const key = createHash('sha256')
    .update(
      canonicalJson({
        format: GRANT_KEY_FORMAT,
        kind: input.kind,
        tool: input.tool,
        skill_id: input.skill.skill_id,
        skill_version: input.skill.version,
        skill_digest: input.skillDigest,
        operation_id: input.op.id,
        permission_diff: diff,
        taint_gated: taintGated,
      }),
    )
    .digest('hex');
  return {
    key,
    tool: input.tool,
    skill_id: input.skill.skill_id,
    skill_version: input.skill.version,
    skill_digest: input.skillDigest,
    operation_id: input.op.id,
    taint_gated: taintGated,
  };
}
