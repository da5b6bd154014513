import type { z } from 'zod';
import { isAppError, type AppError } from '../../errors.ts';
import {
  HTTP_METHODS,
  operationIdSchema,
  semverSchema,
  skillIdSchema,
  type HttpMethod,
  type JsonSchemaObject,
  type SkillManifest,
  type SkillOperation,
} from '../../../contracts/skills.ts';
import { schemaProblem, type JsonSchemaCompiler } from '../manifest/compile-json-schema.ts';
import { checkEgressOrigin } from '../manifest/egress-origin.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import {
  fieldPath,
  validateManifest,
  type SkillLoadPolicy,
} from '../manifest/validate-manifest.ts';
import { declarativeEntry, type HttpOperationPlan, type PathPart } from './declarative-entry.ts';
import {
  declarativeDocumentSchema,
  type DeclarativeDocument,
  type DeclarativeOperation,
} from './declarative-document.ts';
import { compileOnboarding } from './compile-onboarding.ts';
import { deriveSkillId } from './derive-skill-id.ts';
import { findPlaintextSecret } from './find-plaintext-secret.ts';
import { at, parseLocatedYaml, type DocPath, type LocatedValue } from './located-document.ts';
import { readSkillMarkdown } from './read-skill-markdown.ts';

/** Largest skill document read from a file or a URL. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

/** The file name the generated entry gets inside the compiled package. */
export const DECLARATIVE_ENTRY_FILE = 'entry.js';

export type DeclarativeFormat = 'yaml' | 'markdown';

export type CompileOptions = {
  policy: SkillLoadPolicy;
  compiler: JsonSchemaCompiler;
  /** Compile a document that does not look like a skill (it must still pass the contract). */
  force?: boolean;
};

/** A declarative skill compiled into the same package shape as a code skill. */
export type CompiledSkill = { manifest: SkillManifest; entry: string };

/** Output of every declarative operation: the response, labelled untrusted (output_schema). */
export const DECLARATIVE_OUTPUT_SCHEMA: JsonSchemaObject = {
  type: 'object',
  required: ['status', 'body', 'taint'],
  additionalProperties: false,
  properties: {
    status: { type: 'integer' },
    body: {},
    taint: { const: 'untrusted' },
  },
};

const NOT_A_SKILL_FIX =
  'pass a skill.yaml or a skill.md with front matter (name, description, base_url) and operations as ```yaml blocks or "## METHOD /path" sections; use force to compile anyway';

/** Methods that carry no request body. */
const NO_BODY: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'DELETE']);

/** The format a file name implies, or undefined for anything that is not a skill document. */
export function declarativeFormatOf(name: string): DeclarativeFormat | undefined {
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  if (/\.(md|markdown)$/i.test(name)) return 'markdown';
  return undefined;
}

/**
 * Compiles a `skill.yaml` / `skill.md` into a manifest and a generated entry module, applying
 * the whole load contract first (ARCHITECTURE.md §7; docs/declarative-skills.md). Throws
 * SKILL_INVALID naming `file:line` and the field; returns nothing partial. Pure: reads and
 * writes nothing.
 */
export function compileDeclarativeSkill(
  label: string,
  text: string,
  format: DeclarativeFormat,
  options: CompileOptions,
): CompiledSkill {
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES)
    throw skillInvalid(
      label,
      '(document)',
      `is over ${MAX_DOCUMENT_BYTES} bytes`,
      'make it smaller',
    );
  const force = options.force ?? false;
  if (!force && looksLikeHtml(text))
    throw skillInvalid(
      label,
      '(document)',
      'is an HTML page, not a skill document',
      NOT_A_SKILL_FIX,
    );
  // Before anything else: a leaked key is refused even when the rest is broken or forced.
  const secret = findPlaintextSecret(text);
  if (secret !== undefined)
    throw skillInvalid(
      `${label}:${secret.line}`,
      '(document)',
      `contains a secret in plain text (${secret.what})`,
      'remove it (and revoke it: it is leaked); declare auth: {type: bearer, secret: NAME} and store the value with `ccos secrets set NAME`',
    );

  let doc: LocatedValue;
  if (format === 'markdown') {
    const md = readSkillMarkdown(label, text);
    if (!md.structured && !force)
      throw skillInvalid(
        label,
        '(document)',
        'is not a skill document: it has no front matter, no ```yaml/```json operation block and no "METHOD /path" section (operations are never read from prose)',
        NOT_A_SKILL_FIX,
      );
    doc = md;
  } else {
    doc = parseLocatedYaml(label, text);
  }
  const raw = doc.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    if (!force)
      throw skillInvalid(
        label,
        '(document)',
        'is not a skill document (not a mapping of fields)',
        NOT_A_SKILL_FIX,
      );
  }
  const fields: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : {};
  return new Compilation(label, doc, options).run(fields);
}

function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 4096).trimStart().toLowerCase();
  return /^(<!doctype html|<html|<head|<body)/.test(head) || /<html[\s>]/.test(head);
}

/** One compilation: carries the document's locator so every refusal names its line. */
class Compilation {
  readonly #problems: AppError[] = [];
  readonly #label: string;
  readonly #doc: LocatedValue;
  readonly #options: CompileOptions;

  constructor(label: string, doc: LocatedValue, options: CompileOptions) {
    this.#label = label;
    this.#doc = doc;
    this.#options = options;
  }

  run(fields: Record<string, unknown>): CompiledSkill {
    // Every independent part is checked, so a person sees all that is wrong at once
    // ("and 2 more: …") instead of fixing one line per attempt.
    const skillId = this.#collect(() => this.#skillId(fields));
    if (!Array.isArray(fields.operations) || fields.operations.length === 0)
      this.#collect(() =>
        this.#fail(
          ['operations'],
          'declares no operations',
          'declare operations as a list of {id, method, path, description, parameters} or as "## METHOD /path" sections',
        ),
      );
    const parsed = declarativeDocumentSchema.safeParse(fields);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) this.#collect(() => this.#fromZod(issue));
      throw this.#refusal();
    }
    const document = parsed.data;
    const version = document.version ?? '0.0.0';
    if (!semverSchema.safeParse(version).success)
      this.#collect(() =>
        this.#fail(
          ['version'],
          `("${version}") is not a semver version`,
          'use a version such as 1.0.0',
        ),
      );
    // A broken base URL is reported, and the operations are still checked against a stand-in.
    const base = this.#collect(() => this.#baseUrl(document.base_url)) ?? 'https://base.invalid';

    const plans = new Map<string, HttpOperationPlan>();
    const operations: SkillOperation[] = [];
    const methods = new Set<HttpMethod>();
    document.operations.forEach((op, i) => {
      const compiled = this.#collect(() => this.#operation(document, op, i, base));
      if (compiled === undefined) return;
      if (plans.has(compiled.operation.id)) {
        this.#collect(() =>
          this.#fail(
            ['operations', i, 'id'],
            `repeats the operation id "${compiled.operation.id}"`,
            'give every operation a distinct id',
          ),
        );
        return;
      }
      plans.set(compiled.operation.id, compiled.plan);
      operations.push(compiled.operation);
      methods.add(op.method);
    });
    if (this.#problems.length > 0 || skillId === undefined) throw this.#refusal();
    // A secret an onboarding step writes is one the skill uses, even before any operation does.
    const usesSecret = [...plans.values()].some((p) => p.secret !== null) || 'onboarding' in fields;
    const origin = new URL(base).origin;
    const permissions = {
      // Egress is exactly the base URL's origin with the methods the operations use.
      egress: [{ origin, methods: HTTP_METHODS.filter((m) => methods.has(m)) }],
      // The auth secret goes to the base URL's origin and nowhere else.
      secrets:
        usesSecret && document.auth !== undefined
          ? [{ name: document.auth.secret, origins: [origin] }]
          : [],
      memory_namespaces: document.memory_namespaces ?? [],
    };
    const onboarding =
      fields.onboarding === undefined
        ? undefined
        : compileOnboarding(
            fields.onboarding,
            operations,
            permissions,
            this.#options.compiler,
            (path, problem, fix) => this.#fail(path, problem, fix),
          );
    const manifest: SkillManifest = {
      skill_id: skillId,
      version,
      name: document.name ?? skillId,
      description: document.description,
      entry: DECLARATIVE_ENTRY_FILE,
      operations,
      permissions,
      ...(onboarding === undefined || onboarding.length === 0 ? {} : { onboarding }),
    };
    // The same rules a code skill's skill.json passes, as a backstop for anything missed above.
    validateManifest(
      this.#label,
      JSON.stringify(manifest),
      this.#options.policy,
      this.#options.compiler,
    );
    return { manifest, entry: declarativeEntry(plans) };
  }

  #skillId(fields: Record<string, unknown>): string {
    const declared = fields.skill_id;
    if (declared !== undefined) {
      const ok = skillIdSchema.safeParse(declared);
      if (!ok.success)
        this.#fail(
          ['skill_id'],
          `is not a valid skill id (${ok.error.issues[0]?.message ?? 'invalid'})`,
          'set "skill_id" to a lowercase slug such as "weather-lookup"',
        );
      return ok.data;
    }
    const name = fields.name;
    if (typeof name !== 'string' || name.trim() === '')
      this.#fail(
        ['skill_id'],
        'is missing, and there is no "name" to derive it from',
        'declare "name" (the id is derived from it) or "skill_id" in the front matter / top level',
      );
    const derived = deriveSkillId(name);
    if (derived === undefined)
      this.#fail(
        ['name'],
        `("${name.slice(0, 60)}") has no letters to derive a skill id from`,
        'declare "skill_id" explicitly',
      );
    return derived;
  }

  #baseUrl(value: string): string {
    if (value.includes('*'))
      this.#fail(['base_url'], 'contains a wildcard', 'name one exact https URL');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.#fail(
        ['base_url'],
        `("${value.slice(0, 100)}") is not a URL`,
        'use e.g. https://api.example.com/v1',
      );
    }
    const origin = checkEgressOrigin(url.origin, this.#options.policy.allowLoopbackHttp);
    if (!origin.ok)
      this.#fail(['base_url'], `(${url.origin}) ${origin.reason}`, 'use an https URL');
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
      this.#fail(
        ['base_url'],
        'carries credentials, a query or a fragment',
        'give only scheme, host, port and path',
      );
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }

  #operation(
    document: DeclarativeDocument,
    op: DeclarativeOperation,
    i: number,
    base: string,
  ): { operation: SkillOperation; plan: HttpOperationPlan } {
    const where = (...rest: PropertyKey[]): DocPath => ['operations', i, ...rest];
    const id = op.id ?? operationIdFor(op.method, op.path);
    const idCheck = operationIdSchema.safeParse(id);
    if (!idCheck.success)
      this.#fail(
        where('id'),
        `("${id}") ${idCheck.error.issues[0]?.message ?? 'is invalid'}`,
        'set the operation id, e.g. "operation: createPost" (a JavaScript identifier, at most 32 characters)',
      );

    const templateParams = [...op.path.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
    if (/[{}]/.test(op.path.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, '')))
      this.#fail(
        where('path'),
        `("${op.path}") has a malformed {parameter}`,
        'write path parameters as {name}',
      );
    const properties: Record<string, JsonSchemaObject> = {};
    const required: string[] = [];
    const query: string[] = [];
    const body: string[] = [];
    const seen = new Set<string>();
    op.parameters.forEach((p, j) => {
      const at = where('parameters', j);
      if (seen.has(p.name))
        this.#fail(
          [...at, 'name'],
          `repeats the parameter "${p.name}"`,
          'give each parameter one entry',
        );
      seen.add(p.name);
      const location =
        p.in ??
        (templateParams.includes(p.name) ? 'path' : NO_BODY.has(op.method) ? 'query' : 'body');
      if (location === 'path' && !templateParams.includes(p.name))
        this.#fail(
          [...at, 'in'],
          `declares path parameter "${p.name}", which ${op.path} does not contain`,
          `add {${p.name}} to the path or put the parameter in query or body`,
        );
      if (location === 'body' && NO_BODY.has(op.method))
        this.#fail(
          [...at, 'in'],
          `puts "${p.name}" in the body of a ${op.method} request`,
          'use a query parameter',
        );
      if (p.schema !== undefined && (p.type !== undefined || p.enum !== undefined))
        this.#fail(
          [...at, 'schema'],
          'is given together with type/enum',
          'give either a schema or type/enum',
        );
      const schema: JsonSchemaObject = p.schema ?? {
        type: p.type ?? 'string',
        ...(p.enum === undefined ? {} : { enum: p.enum }),
      };
      if (location === 'path') {
        if (!['string', 'integer', 'number'].includes(String(schema.type)))
          this.#fail(
            [...at, 'type'],
            'of a path parameter must be string, integer or number',
            'use a scalar type',
          );
        // `.` and `..` would walk out of the declared path on the same origin.
        if (schema.type === 'string')
          Object.assign(schema, { minLength: 1, not: { enum: ['.', '..'] } });
      }
      const property: JsonSchemaObject = {
        ...schema,
        ...(p.description === undefined || 'description' in schema
          ? {}
          : { description: p.description }),
      };
      try {
        this.#options.compiler.compile({ type: 'object', properties: { [p.name]: property } });
      } catch (e) {
        const problem = schemaProblem(e);
        this.#fail(
          [...at, p.schema === undefined ? 'type' : 'schema'],
          `is not a valid JSON Schema (2020-12): ${problem.message}`,
          problem.fix ?? 'give a JSON Schema object, e.g. {"type": "string"}',
        );
      }
      properties[p.name] = property;
      if (location === 'path' || p.required === true) required.push(p.name);
      if (location === 'query') query.push(p.name);
      if (location === 'body') body.push(p.name);
    });
    for (const name of templateParams) {
      if (!op.parameters.some((p) => p.name === name))
        this.#fail(
          where('parameters'),
          `do not declare "${name}", which the path ${op.path} uses`,
          `add a parameter {name: ${name}, in: path, type: string}`,
        );
    }

    const auth = op.auth ?? (document.auth === undefined ? 'none' : 'bearer');
    if (auth === 'bearer' && document.auth === undefined)
      this.#fail(
        where('auth'),
        'asks for bearer auth, but the document declares no auth secret',
        'declare auth: {type: bearer, secret: NAME} at the top level',
      );
    const capabilities = op.capabilities ?? ['net.http'];
    capabilities.forEach((cap, k) => {
      if (!this.#options.policy.capabilities.has(cap))
        this.#fail(
          where('capabilities', k),
          `names "${cap}", which the gateway has not registered`,
          `use one of: ${[...this.#options.policy.capabilities].sort().join(', ')}`,
        );
    });
    if (!capabilities.includes('net.http'))
      this.#fail(
        where('capabilities'),
        'must include "net.http" (the operation makes an HTTP request)',
        'add net.http',
      );

    const path: PathPart[] = op.path
      .split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/)
      .filter((s) => s !== '')
      .map((s) => (s.startsWith('{') ? { param: s.slice(1, -1) } : s));
    return {
      operation: {
        id: idCheck.data,
        description: op.description,
        input_schema: { type: 'object', properties, required, additionalProperties: false },
        output_schema: DECLARATIVE_OUTPUT_SCHEMA,
        capabilities,
        approval: op.approval,
        http: { method: op.method, url: `${base}${op.path}` },
        ...(op.output_label === undefined ? {} : { output_label: op.output_label }),
      },
      plan: {
        method: op.method,
        base,
        path,
        query,
        body: body.length > 0 || !NO_BODY.has(op.method) ? body : null,
        secret: auth === 'bearer' ? (document.auth?.secret ?? null) : null,
      },
    };
  }

  #fromZod(issue: z.core.$ZodIssue): never {
    const path = issue.path;
    const message = issue.message;
    this.#fail(path, message.endsWith('received undefined') ? 'is missing' : message, fixFor(path));
  }

  #fail(path: DocPath, problem: string, fix: string): never {
    throw skillInvalid(at(this.#label, this.#doc.lineOf(path)), fieldPath(path), problem, fix, {
      problem,
    });
  }

  /** Runs one independent check; a refusal it raises is kept for the report, not thrown. */
  #collect<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (e) {
      if (!isAppError(e, 'SKILL_INVALID')) throw e;
      // The same field refused twice (no operations, then the schema's "too small") is one problem.
      const field = (e.details as { field?: unknown }).field;
      if (!this.#problems.some((p) => (p.details as { field?: unknown }).field === field))
        this.#problems.push(e);
      return undefined;
    }
  }

  /** The first problem, naming how many more there are and what they are. */
  #refusal(): AppError {
    const [first, ...rest] = this.#problems;
    if (first === undefined)
      return skillInvalid(this.#label, '(document)', 'is invalid', 'correct it');
    if (rest.length === 0) return first;
    const parts = (e: AppError) =>
      e.details as { file: string; field: string; fix: string; problem?: string };
    const head = parts(first);
    const more = rest.map((e) => {
      const d = parts(e);
      return `${d.file}: ${d.field} ${d.problem ?? e.message}`;
    });
    return skillInvalid(
      head.file,
      head.field,
      `${head.problem ?? first.message} (and ${rest.length} more: ${more.join('; ')})`,
      head.fix,
      { problems: this.#problems.map(parts) },
    );
  }
}

function fixFor(path: DocPath): string {
  const key = [...path].reverse().find((k): k is string => typeof k === 'string') ?? '';
  switch (key) {
    case 'description':
      return 'describe it in a sentence';
    case 'base_url':
      return 'set base_url to the https URL the paths are under, e.g. https://api.example.com/v1';
    case 'method':
      return `use one of ${HTTP_METHODS.join(', ')}`;
    case 'path':
      return 'write the path under base_url, e.g. /posts/{id}';
    case 'auth':
    case 'secret':
      return 'declare auth: {type: bearer, secret: NAME} (an UPPER_SNAKE_CASE secret name)';
    case 'type':
      return 'use string, integer, number, boolean, array or object';
    case 'in':
      return 'use path, query or body';
    case 'approval':
      return 'use never, always or policy';
    default:
      return 'correct the field as the message says (see docs/declarative-skills.md)';
  }
}

/** `POST /posts/{id}/comments` → `postPostsIdComments`: deterministic, documented. */
function operationIdFor(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return `${method.toLowerCase()}${words.join('')}`;
}
