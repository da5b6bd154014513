import type { PolicyPack } from '../../contracts/policy.ts';
import { constitutionIssues } from './constitution.ts';

/** Rules across fields that a field's own schema cannot state, with the field to blame. */
export function packConsistencyIssues(
  pack: PolicyPack,
): { path: readonly PropertyKey[]; message: string }[] {
  const issues: { path: readonly PropertyKey[]; message: string }[] = [];
  const { segment_max_checkpoints: checkpoints, segment_max_steps: steps } = pack;
  // A worker checkpoints after each step and at the end: a lower quota fails healthy runs.
  if (checkpoints !== undefined && checkpoints <= steps)
    issues.push({
      path: ['segment_max_checkpoints'],
      message: `must be more than segment_max_steps (${steps})`,
    });
  const retry = pack.llm_retry;
  if (retry !== undefined && retry.max_delay_ms < retry.base_delay_ms)
    issues.push({
      path: ['llm_retry', 'max_delay_ms'],
      message: `must be at least base_delay_ms (${retry.base_delay_ms})`,
    });
  // A deny rule spelled unlike the origin a request is matched by would never match it.
  (pack.rules ?? []).forEach((r, i) => {
    const origin = r.match.origin;
    if (origin !== undefined && !isOriginPattern(origin))
      issues.push({
        path: ['rules', i, 'match', 'origin'],
        message:
          'must be an origin as a URL spells it (lower case, no path, no default port), e.g. https://api.example.com, or a prefix of one ending in *',
      });
  });
  // A pack may tighten the constitution, never relax it: such a pack is not loaded at all.
  issues.push(...constitutionIssues(pack));
  return issues;
}

/** `https://host[:port]` exactly as `new URL(...).origin` writes it, or `http(s)://…*`. */
function isOriginPattern(pattern: string): boolean {
  if (pattern.endsWith('*')) return /^https?:\/\//.test(pattern);
  try {
    return new URL(pattern).origin === pattern;
  } catch {
    return false;
  }
}
