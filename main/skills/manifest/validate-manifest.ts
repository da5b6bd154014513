import type { z } from 'zod';
import {
  skillManifestSchema,
  type SkillManifest,
  type SkillOperation,
} from '../../../contracts/skills.ts';
import {
  schemaProblem,
  type JsonSchemaCompiler,
  type JsonValidator,
} from './compile-json-schema.ts';
import { checkEgressOrigin } from './egress-origin.ts';
import { secretGrants } from './secret-grants.ts';
import { skillInvalid } from './skill-invalid.ts';

/** What the gateway allows skills to ask for; passed in, never read from a global. */
export type SkillLoadPolicy = {
  /** Capabilities the gateway registered; an operation naming any other is refused. */
  capabilities: ReadonlySet<string>;
  /** Whether `http://127.0.0.1`-style origins may be declared (tests, local services). */
  allowLoopbackHttp: boolean;
  /**
   * Secrets of the host's own configuration (its LLM keys): no skill may declare them, so
   * no skill document can carry the host's key to an origin of its choosing.
   */
  reservedSecrets?: ReadonlySet<string>;
};

/** An operation with its schemas compiled once, at load. */
export type CompiledOperation = {
  operation: SkillOperation;
  validateInput: JsonValidator;
  validateOutput: JsonValidator | undefined;
};

/** A manifest that passed every load rule. */
export type ValidatedManifest = {
  manifest: SkillManifest;
  operations: ReadonlyMap<string, CompiledOperation>;
};

const FIXES: Record<string, string> = {
  skill_id: 'set "skill_id" to a lowercase slug such as "weather-lookup"',
  version: 'set "version" to a semver version such as "1.0.0"',
  name: 'set "name" to a short human-readable name',
  description: 'describe what the skill does in one or two sentences',
  entry: 'set "entry" to the relative path of the JavaScript entry file, e.g. "index.js"',
  operations:
    'declare at least one operation with id, description, input_schema, capabilities and approval',
  id: 'give the operation an id that is a JavaScript identifier, e.g. "search"',
  input_schema: 'give a JSON Schema object, e.g. {"type":"object","properties":{}}',
  output_schema: 'give a JSON Schema object or leave the field out',
  output_label:
    'set "output_label" to "public", a label such as "pii.chat.message", or a list of them (docs/labels.md)',
  output_taint: 'set "output_taint" to "trusted" or "untrusted", or leave it out',
  capabilities: 'list at least one capability the gateway registers',
  approval: 'set "approval" to "never", "always" or "policy"',
  permissions: 'declare "permissions": {"egress": [], "secrets": [], "memory_namespaces": []}',
  egress: 'list egress rules as {"origin": "https://host", "methods": ["GET"]}',
  origin: 'name one exact origin such as "https://api.example.com"',
  methods: 'list methods from GET, HEAD, POST, PUT, PATCH, DELETE',
  secrets:
    'list each secret as {"name": "EXAMPLE_API_KEY", "origins": ["https://api.example.com"]}',
  memory_namespaces: 'list memory namespace names such as "notes"',
};

/** `operations[0].input_schema` from a zod path. */
export function fieldPath(p: readonly PropertyKey[]): string {
  return (
    p.reduce<string>(
      (acc, k) =>
        typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`,
      '',
    ) || '(root)'
  );
}

function fixFor(p: readonly PropertyKey[]): string {
  const key = [...p].reverse().find((k): k is string => typeof k === 'string');
  return (
    (key !== undefined ? FIXES[key] : undefined) ??
    'correct the field as the message says (see docs/skills-sandbox.md)'
  );
}

function fromZod(file: string, error: z.ZodError): Error {
  const issues = error.issues.map((i) => ({
    field: fieldPath(i.path),
    message: i.message,
    fix: fixFor(i.path),
  }));
  const first = issues[0] ?? {
    field: '(root)',
    message: 'is invalid',
    fix: 'correct the manifest',
  };
  const rest =
    issues.length > 1
      ? ` (and ${issues.length - 1} more: ${issues
          .slice(1)
          .map((i) => `${i.field}: ${i.message}`)
          .join('; ')})`
      : '';
  return skillInvalid(file, first.field, `${first.message}${rest}`, first.fix, { issues });
}

/**
 * Applies every manifest load rule (ARCHITECTURE.md §7) and compiles the schemas. Throws the
 * first rule broken as SKILL_INVALID naming file, field and fix; returns nothing partial.
 */
export function validateManifest(
  file: string,
  text: string,
  policy: SkillLoadPolicy,
  compiler: JsonSchemaCompiler,
): ValidatedManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw skillInvalid(
      file,
      '(root)',
      `is not valid JSON (${e instanceof Error ? e.message : 'parse error'})`,
      'fix the JSON syntax',
    );
  }
  if (typeof json === 'object' && json !== null && !('skill_id' in json)) {
    throw skillInvalid(file, 'skill_id', 'is missing', FIXES.skill_id ?? '');
  }
  const parsed = skillManifestSchema.safeParse(json);
  if (!parsed.success) throw fromZod(file, parsed.error);
  const manifest = parsed.data;

  const operations = new Map<string, CompiledOperation>();
  manifest.operations.forEach((operation, i) => {
    const at = `operations[${i}]`;
    if (operations.has(operation.id))
      throw skillInvalid(
        file,
        `${at}.id`,
        `repeats the operation id "${operation.id}"`,
        'give every operation a distinct id',
      );
    operation.capabilities.forEach((cap, j) => {
      if (!policy.capabilities.has(cap)) {
        const known = [...policy.capabilities].sort().join(', ') || '(none)';
        throw skillInvalid(
          file,
          `${at}.capabilities[${j}]`,
          `names "${cap}", which the gateway has not registered`,
          `use one of: ${known}`,
        );
      }
    });
    if (operation.input_schema.type !== 'object') {
      throw skillInvalid(
        file,
        `${at}.input_schema`,
        'must describe an object (tool parameters are an object)',
        'set "type": "object" at the top of input_schema',
      );
    }
    const compile = (
      field: 'input_schema' | 'output_schema',
      schema: Record<string, unknown>,
    ): JsonValidator => {
      try {
        return compiler.compile(schema);
      } catch (e) {
        const problem = schemaProblem(e);
        throw skillInvalid(
          file,
          `${at}.${field}`,
          `is not a valid JSON Schema (2020-12): ${problem.message}`,
          problem.fix ?? FIXES[field] ?? '',
        );
      }
    };
    operations.set(operation.id, {
      operation,
      validateInput: compile('input_schema', operation.input_schema),
      validateOutput:
        operation.output_schema === undefined
          ? undefined
          : compile('output_schema', operation.output_schema),
    });
  });

  const origins = new Set<string>();
  manifest.permissions.egress.forEach((rule, i) => {
    const field = `permissions.egress[${i}].origin`;
    const check = checkEgressOrigin(rule.origin, policy.allowLoopbackHttp);
    if (!check.ok)
      throw skillInvalid(file, field, `("${rule.origin}") ${check.reason}`, FIXES.origin ?? '');
    if (origins.has(check.origin))
      throw skillInvalid(
        file,
        field,
        `repeats "${check.origin}"`,
        'declare each origin once, listing all its methods',
      );
    origins.add(check.origin);
    if (new Set(rule.methods).size !== rule.methods.length) {
      throw skillInvalid(
        file,
        `permissions.egress[${i}].methods`,
        'repeats a method',
        'list each method once',
      );
    }
  });
  checkSecrets(file, manifest, origins, policy);
  const namespaces = manifest.permissions.memory_namespaces;
  if (new Set(namespaces).size !== namespaces.length)
    throw skillInvalid(
      file,
      'permissions.memory_namespaces',
      'repeats a name',
      'list each name once',
    );
  return { manifest, operations };
}

/**
 * Secrets: each name once, none of the host's own, and each bound only to origins the skill
 * declares in `permissions.egress` (a secret bound to an origin it cannot reach is a mistake
 * a person should see at load, not at the first call).
 */
function checkSecrets(
  file: string,
  manifest: SkillManifest,
  origins: ReadonlySet<string>,
  policy: SkillLoadPolicy,
): void {
  const grants = secretGrants(manifest.permissions);
  const names = new Set<string>();
  grants.forEach((grant, i) => {
    const field = `permissions.secrets[${i}]`;
    if (names.has(grant.name))
      throw skillInvalid(
        file,
        field,
        `repeats the secret "${grant.name}"`,
        'list each secret once',
      );
    names.add(grant.name);
    if (policy.reservedSecrets?.has(grant.name) === true)
      throw skillInvalid(
        file,
        field,
        `names "${grant.name}", a secret of the host's own configuration (its LLM key)`,
        'give the skill its own secret under another name, e.g. <SERVICE>_API_KEY',
      );
    grant.origins.forEach((origin, j) => {
      if (!origins.has(origin))
        throw skillInvalid(
          file,
          `${field}.origins[${j}]`,
          `("${origin}") is not one of the skill's egress origins`,
          'bind the secret only to origins listed in permissions.egress',
        );
    });
  });
}
