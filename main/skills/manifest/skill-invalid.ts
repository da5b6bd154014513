import { AppError } from '../../errors.ts';

/**
 * The one way a skill load is refused: names the file, the field and the fix, so the person
 * installing it can act without reading our code (PEER-LESSONS: no silently skipped skills).
 */
export function skillInvalid(
  file: string,
  field: string,
  problem: string,
  fix: string,
  extra?: Record<string, unknown>,
): AppError {
  return new AppError('SKILL_INVALID', `${file}: ${field} ${problem}. Fix: ${fix}`, {
    file,
    field,
    fix,
    ...extra,
  });
}
