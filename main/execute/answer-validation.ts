import type { Approval } from '../../contracts/approvals.ts';
import type { JsonSchemaObject } from '../../contracts/skills.ts';
import { AppError } from '../errors.ts';
import { JsonSchemaCompiler, type JsonValidator } from '../skills/manifest/compile-json-schema.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import { resolveTool } from './resolve-tool.ts';
import { answerProblems, answerSchema } from './schema-form.ts';

/**
 * Checks a person's answer to a missing-input form against the operation's input schema,
 * before the approval service records it: an answer that does not fit is refused at the
 * edge (INVALID_INPUT, field by field) instead of failing the call it was meant to unblock.
 */
export class AnswerValidation {
  readonly #registry: SkillRegistry;
  readonly #compiler = new JsonSchemaCompiler();
  /** By schema text: Ajv keeps every schema object it compiled, so each form is compiled once. */
  readonly #validators = new Map<string, JsonValidator>();

  constructor(registry: SkillRegistry) {
    this.#registry = registry;
  }

  /** Throws CONFLICT when the tool is gone, INVALID_INPUT when the answer does not fit. */
  check(approval: Approval, answer: Record<string, unknown> | undefined): void {
    const request = approval.request as { tool?: unknown; missing_fields?: unknown };
    const fields = Array.isArray(request.missing_fields)
      ? request.missing_fields.filter((f) => typeof f === 'string')
      : [];
    const resolved =
      typeof request.tool === 'string' ? resolveTool(this.#registry, request.tool) : undefined;
    if (resolved === undefined || 'outcome' in resolved) {
      throw new AppError('CONFLICT', `the tool of approval ${approval.id} is no longer installed`);
    }
    const given = answer ?? {};
    const check = this.#validator(answerSchema(resolved.op.input_schema, fields))(given);
    if (!check.ok) {
      const problems = answerProblems(check.problems, check.missing, fields, given);
      throw new AppError(
        'INVALID_INPUT',
        `the answer does not fit the form: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        { fields: problems },
      );
    }
  }

  #validator(schema: JsonSchemaObject): JsonValidator {
    const key = JSON.stringify(schema);
    let validator = this.#validators.get(key);
    if (validator === undefined) {
      validator = this.#compiler.compile(schema);
      this.#validators.set(key, validator);
    }
    return validator;
  }
}
