import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** A compiled validator that reports `path: message` problems instead of throwing. */
export type JsonValidator = (value: unknown) => { ok: true } | { ok: false; problems: string[] };

// ajv-formats is CommonJS; under nodenext its default import is the module object, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

/**
 * Compiles JSON Schemas (draft 2020-12) with formats. Strict about unknown keywords so a typo
 * fails at load, not silently at call time; never fetches remote `$ref`s.
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
    });
    addFormats(this.#ajv);
  }

  /** Compiles `schema` or throws with Ajv's reason. */
  compile(schema: Record<string, unknown>): JsonValidator {
    const validate: ValidateFunction = this.#ajv.compile(schema);
    return (value) => {
      if (validate(value)) return { ok: true };
      const problems = (validate.errors ?? []).map(
        (e) => `${e.instancePath === '' ? '(root)' : e.instancePath}: ${e.message ?? 'is invalid'}`,
      );
      return { ok: false, problems };
    };
  }
}
