import type { PolicyDecision } from '../../../contracts/policy.ts';
import type { SkillOperation } from '../../../contracts/skills.ts';
import { auditedBy, type ActorContext } from '../../actor-context.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import { AppError } from '../../errors.ts';
import type { DecisionRequest } from '../../policy/decide.ts';

/** The host's pack rules on a skill about to be installed or enabled. */
export type SkillPackRules = (
  request: Extract<DecisionRequest, { kind: 'skill' }>,
) => PolicyDecision;

/**
 * Refuses to install or enable a skill whose declared capabilities a pack rule denies, before
 * anything of it is loaded or stored; the refusal is a `policy.decision` naming the rule.
 */
export async function refuseDeniedSkill(
  deps: { chain: CausalChain; rules: SkillPackRules },
  skill: {
    skill_id: string;
    version: string;
    operations: readonly Pick<SkillOperation, 'capabilities'>[];
  },
  doing: 'install' | 'enable',
  ctx: ActorContext,
): Promise<void> {
  const capabilities = [...new Set(skill.operations.flatMap((o) => o.capabilities))].sort();
  const decision = deps.rules({ kind: 'skill', skill_id: skill.skill_id, capabilities });
  // No person is asked at install time: the admin doing it is the person; only a deny stops it.
  if (decision.effect !== 'deny') return;
  await deps.chain.append({
    event_type: 'policy.decision',
    ...auditedBy(ctx),
    capability_id: skill.skill_id,
    capability_version: skill.version,
    rule_id: decision.rule_id,
    data: {
      decision: 'refused',
      doing,
      skill_id: skill.skill_id,
      capabilities,
      reason: decision.reason,
    },
  });
  throw new AppError(
    'CAPABILITY_DENIED',
    `cannot ${doing} skill ${skill.skill_id}: ${decision.reason}`,
    {
      rule_id: decision.rule_id,
    },
  );
}
