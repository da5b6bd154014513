import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type { CompletionPredicate } from '../../contracts/runs.ts';
import { AppError } from '../errors.ts';
import { userPath } from './cli-context.ts';

/**
 * `--until capability:<tool>`: the run is done only once that tool (`<skill>__<operation>`,
 * or a whole skill by its id) has succeeded, whatever the agent claims.
 */
export function untilOption(value: string): CompletionPredicate {
  const match = /^capability:(.+)$/.exec(value.trim());
  if (match?.[1] === undefined || match[1].length > 200)
    throw new InvalidArgumentError(
      `--until takes capability:<tool>, e.g. capability:echo-notes__echo, not "${value}".`,
    );
  return { kind: 'capability_succeeded', capability_id: match[1] };
}

/**
 * `--until-json-logic FILE`: a JSON Logic rule (jsonlogic.com) over the run's recorded
 * `{ memory, steps }` that must hold before the run is done. Read from the user's directory.
 */
export async function jsonLogicFile(file: string): Promise<CompletionPredicate> {
  const text = await readFile(userPath(file), 'utf8').catch(() => {
    throw new AppError('INVALID_INPUT', `--until-json-logic: cannot read ${file}`);
  });
  let rule: unknown;
  try {
    rule = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_INPUT', `--until-json-logic: ${file} is not valid JSON`);
  }
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    throw new AppError(
      'INVALID_INPUT',
      `--until-json-logic: ${file} must hold one JSON Logic rule, an object such as {"==":[1,1]}`,
    );
  return { kind: 'json_logic', rule: rule as Record<string, unknown> };
}

/** The completion predicate `runs create` sends, from whichever of the two flags was given. */
export async function completionOf(opts: {
  until?: CompletionPredicate;
  untilJsonLogic?: string;
}): Promise<CompletionPredicate | undefined> {
  if (opts.until !== undefined && opts.untilJsonLogic !== undefined)
    throw new AppError('INVALID_INPUT', 'give --until or --until-json-logic, not both');
  if (opts.untilJsonLogic !== undefined) return jsonLogicFile(opts.untilJsonLogic);
  return opts.until;
}
