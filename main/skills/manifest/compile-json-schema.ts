import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isAppError } from '../../errors.ts';
import { linearRegExp } from './linear-regexp.ts';

/** A compiled validator that reports `path: message` problems instead of throwing. */
export type JsonValidator = (
  value: unknown,
) => { ok: true } | { ok: false; problems: string[]; missing: string[] };

/**
 * Annotations the host reads from operation schemas; Ajv ignores them when validating.
 * `x-ccos-autofill` names the context a missing field may be filled from.
 */
export const CCOS_SCHEMA_KEYWORDS = ['x-ccos-autofill'] as const;

// ajv-formats is CommonJS; under nodenext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

/**
 * Compiles JSON Schemas (draft 2020-12) with formats. Strict about unknown keywords so a typo
 * fails at load, not silently at call time; never fetches remote `$ref`s; `pattern` and
 * `patternProperties` run on a linear-time engine (linear-regexp.ts).
 */
export class JsonSchemaCompiler {
  readonly #ajv: Ajv2020;

  constructor() {
    this.#ajv = new Ajv2020({
      strict: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      allErrors: true,
      logger: false,
      // Patterns come from untrusted documents and run on the host's main thread (issue 17 #24).
      code: { regExp: linearRegExp },
    });
    addFormats(this.#ajv);
    this.#ajv.addVocabulary([...CCOS_SCHEMA_KEYWORDS]);
  }

  /** Compiles `schema` or throws with Ajv's reason. */
  compile(schema: Record<string, unknown>): JsonValidator {
    const validate: ValidateFunction = this.#ajv.compile(schema);
    return (value) => {
      if (validate(value)) return { ok: true };
      const problems = (validate.errors ?? []).map(
        (e) => `${e.instancePath === '' ? '(root)' : e.instancePath}: ${e.message ?? 'is invalid'}`,
      );
      // Top-level required properties that are absent: what a person can be asked for.
      const missing = (validate.errors ?? []).flatMap((e) =>
        e.keyword === 'required' &&
        e.instancePath === '' &&
        typeof e.params.missingProperty === 'string'
          ? [e.params.missingProperty]
          : [],
      );
      return { ok: false, problems, missing };
    };
  }
}

/**
 * Why `compile` refused a schema, and how to fix it when the compiler knows better than the
 * caller's generic advice (an unsupported pattern).
 */
export function schemaProblem(e: unknown): { message: string; fix: string | undefined } {
  const message = e instanceof Error ? e.message : String(e);
  const details: unknown = isAppError(e, 'SKILL_INVALID') ? e.details : undefined;
  const fix =
    typeof details === 'object' &&
    details !== null &&
    'fix' in details &&
    typeof details.fix === 'string'
      ? details.fix
      : undefined;
  return { message, fix };
}
