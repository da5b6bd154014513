import { z } from 'zod';
import { formFieldSchema, type FormField } from '../../../contracts/approvals.ts';
import { AppError } from '../../errors.ts';

const formSchema = z.array(formFieldSchema);

/** The form a `human_action` approval carries, or undefined when it has none. */
export function formOf(request: Record<string, unknown>): FormField[] | undefined {
  const parsed = formSchema.safeParse(request.form);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Checks a person's answer against a human_action form: every field present with its type,
 * nothing else. INVALID_INPUT names each bad field (`answer.<name>`), so the API says 400
 * and which field to fix.
 */
export function checkHumanAnswer(
  form: readonly FormField[],
  answer: Record<string, unknown> | undefined,
): void {
  const given = answer ?? {};
  const problems: { path: string; message: string }[] = [];
  for (const field of form) {
    const value = given[field.name];
    if (value === undefined || value === null || value === '') {
      if (field.required) problems.push({ path: `answer.${field.name}`, message: 'is required' });
      continue;
    }
    const ok =
      field.type === 'string'
        ? typeof value === 'string' && value.length <= 4096
        : field.type === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'number' &&
            Number.isFinite(value) &&
            (field.type === 'number' || Number.isInteger(value));
    if (!ok) problems.push({ path: `answer.${field.name}`, message: `must be a ${field.type}` });
  }
  for (const name of Object.keys(given)) {
    if (!form.some((f) => f.name === name))
      problems.push({ path: `answer.${name}`, message: 'is not a field of this form' });
  }
  if (problems.length > 0)
    throw new AppError(
      'INVALID_INPUT',
      `invalid answer: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      { fields: problems },
    );
}
