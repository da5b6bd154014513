import type { SecretGrant, SkillPermissions } from '../../../contracts/skills.ts';
import { originOf } from './egress-origin.ts';

/**
 * The secrets a skill declares, each with the origins it may be sent to: `{name, origins}`
 * as written, or a bare name (the earlier form) bound to every egress origin the skill
 * declares. Origins come back canonical (`new URL(o).origin`).
 */
export function secretGrants(permissions: SkillPermissions): SecretGrant[] {
  const all = permissions.egress.map((e) => originOf(e.origin) ?? e.origin);
  return permissions.secrets.map((s) =>
    typeof s === 'string'
      ? { name: s, origins: all }
      : { name: s.name, origins: s.origins.map((o) => originOf(o) ?? o) },
  );
}

/** The names of the secrets a skill declares. */
export function secretNames(permissions: SkillPermissions): string[] {
  return permissions.secrets.map((s) => (typeof s === 'string' ? s : s.name));
}
