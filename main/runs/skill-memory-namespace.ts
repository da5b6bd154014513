/**
 * Where a skill's memory namespace is stored: each skill has its own, so two skills that
 * both declare `notes` never see each other's items (and no skill reaches the person's or
 * an agent's namespaces, which have other prefixes). Skill ids and namespaces contain no `:`.
 */
export function skillMemoryNamespace(skillId: string, namespace: string): string {
  return `skill:${skillId}:${namespace}`;
}

/** The skill and declared namespace of a stored skill namespace, or undefined for any other. */
export function parseSkillMemoryNamespace(
  stored: string,
): { skill_id: string; namespace: string } | undefined {
  const match = /^skill:([^:]+):([^:]+)$/.exec(stored);
  if (match === null) return undefined;
  return { skill_id: match[1] ?? '', namespace: match[2] ?? '' };
}

/** The provenance a skill's memory write records: which skill, at which version. */
export function skillMemorySource(skillId: string, version: string): string {
  return `skill:${skillId}@${version}`;
}
