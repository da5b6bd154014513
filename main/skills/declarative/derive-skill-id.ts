/** Longest skill id (contracts/skills.ts `skillIdSchema`). */
const MAX_SKILL_ID = 30;

/**
 * Derives a skill id from a declared name the same way every time: ASCII-folded, lowercase,
 * runs of anything else collapsed to one hyphen, cut at 30 characters. Undefined when
 * nothing usable is left (e.g. a name without letters), so the caller refuses the document
 * instead of inventing an id.
 */
export function deriveSkillId(name: string): string | undefined {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[-0-9]+/, '')
    .slice(0, MAX_SKILL_ID)
    .replace(/-+$/, '');
  return slug === '' ? undefined : slug;
}
