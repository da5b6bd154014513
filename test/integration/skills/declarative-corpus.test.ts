import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { JsonSchemaCompiler } from '../../../main/skills/manifest/compile-json-schema.ts';
import {
  compileDeclarativeSkill,
  declarativeFormatOf,
} from '../../../main/skills/declarative/compile-declarative-skill.ts';
import { writeCompiledSkill } from '../../../main/skills/declarative/write-compiled-skill.ts';
import { CAPABILITIES, FIXTURES, makeKit } from './skill-test-kit.ts';

const CORPUS = path.join(FIXTURES, 'declarative');

type Options = { force?: boolean; allowLoopbackHttp?: boolean };
type Loads = { skill_id: string; operations: string[]; egress: string; secrets?: string[] };
/** `line` is the line the message must name (`file:line`); 0 means the file alone. */
type Fails = { field: string; fragment: string; line: number };
type Case = { file: string; options?: Options } & ({ loads: Loads } | { fails: Fails });

const NOT_A_SKILL = 'is not a skill document';

/** Every document of the corpus with exactly what it must do. */
const CASES: Case[] = [
  {
    file: 'moltbook.skill.md',
    loads: {
      skill_id: 'moltbook',
      operations: [
        'register',
        'status',
        'me',
        'feed',
        'listPosts',
        'createPost',
        'getPost',
        'comment',
        'upvote',
        'search',
      ],
      egress: 'https://www.moltbook.com',
      secrets: ['MOLTBOOK_API_KEY'],
    },
  },
  {
    file: 'weather.skill.yaml',
    loads: {
      skill_id: 'weather',
      operations: ['current', 'addNote'],
      egress: 'https://api.weather.example',
      secrets: ['WEATHER_API_KEY'],
    },
  },
  {
    file: 'notes-fenced.skill.md',
    loads: {
      skill_id: 'team-notes',
      operations: ['listNotes', 'createNote'],
      egress: 'https://notes.example.com',
      secrets: ['NOTES_TOKEN'],
    },
  },
  {
    file: 'json-block.skill.md',
    loads: {
      skill_id: 'cafe-menu-api',
      operations: ['today'],
      egress: 'https://menu.example.org',
      secrets: [],
    },
  },
  {
    file: 'derived-id.skill.yaml',
    loads: {
      skill_id: 'github-issues-read-only',
      operations: ['getReposOwnerRepoIssues'],
      egress: 'https://api.github.com',
    },
  },
  {
    file: 'placeholders.skill.md',
    loads: {
      skill_id: 'paste-bin',
      operations: ['createPaste', 'getPaste'],
      egress: 'https://paste.example.net',
    },
  },
  {
    file: 'loopback.skill.yaml',
    options: { allowLoopbackHttp: true },
    loads: { skill_id: 'local-echo', operations: ['ping'], egress: 'http://127.0.0.1:8080' },
  },
  {
    file: 'loopback.skill.yaml',
    fails: { field: 'base_url', fragment: 'plain http to loopback is not allowed', line: 3 },
  },
  {
    file: 'no-name.skill.yaml',
    fails: { field: 'skill_id', fragment: 'there is no "name" to derive it from', line: 1 },
  },
  {
    file: 'unnameable.skill.yaml',
    fails: { field: 'name', fragment: 'has no letters to derive a skill id', line: 1 },
  },
  {
    file: 'bad-skill-id.skill.yaml',
    fails: { field: 'skill_id', fragment: 'is not a valid skill id', line: 1 },
  },
  {
    file: 'no-operations.skill.yaml',
    fails: { field: 'operations', fragment: 'declares no operations', line: 4 },
  },
  { file: 'prose-only.skill.md', fails: { field: '(document)', fragment: NOT_A_SKILL, line: 0 } },
  {
    file: 'prose-only.skill.md',
    options: { force: true },
    fails: { field: 'skill_id', fragment: 'is missing', line: 1 },
  },
  {
    file: 'html-page.skill.md',
    fails: { field: '(document)', fragment: 'is an HTML page, not a skill document', line: 0 },
  },
  {
    file: 'html-page.skill.md',
    options: { force: true },
    fails: { field: 'skill_id', fragment: 'is missing', line: 1 },
  },
  {
    file: 'broken-schema.skill.yaml',
    fails: {
      field: 'operations[0].parameters[0].schema',
      fragment: 'is not a valid JSON Schema',
      line: 12,
    },
  },
  {
    file: 'wildcard-origin.skill.yaml',
    fails: { field: 'base_url', fragment: 'contains a wildcard', line: 3 },
  },
  {
    file: 'http-origin.skill.yaml',
    fails: { field: 'base_url', fragment: 'must use https', line: 3 },
  },
  {
    file: 'secret-bearer.skill.md',
    fails: {
      field: '(document)',
      fragment: 'secret in plain text (a credential in an Authorization header)',
      line: 12,
    },
  },
  {
    file: 'secret-api-key.skill.yaml',
    fails: { field: '(document)', fragment: 'secret in plain text', line: 4 },
  },
  {
    file: 'duplicate-ids.skill.yaml',
    fails: {
      field: 'operations[1].id',
      fragment: 'repeats the operation id "fetchItem"',
      line: 10,
    },
  },
  {
    file: 'path-param-missing.skill.yaml',
    fails: {
      field: 'operations[0].parameters',
      fragment: 'do not declare "id", which the path /posts/{id} uses',
      line: 5,
    },
  },
  {
    file: 'path-param-not-in-path.skill.yaml',
    fails: {
      field: 'operations[0].parameters[0].in',
      fragment: 'which /posts does not contain',
      line: 10,
    },
  },
  {
    file: 'body-on-get.skill.yaml',
    fails: { field: 'operations[0].parameters[0].in', fragment: 'in the body of a GET', line: 10 },
  },
  {
    file: 'unregistered-capability.skill.yaml',
    fails: {
      field: 'operations[0].capabilities[1]',
      fragment: '"shell.exec", which the gateway has not registered',
      line: 9,
    },
  },
  {
    file: 'bad-method.skill.md',
    fails: { field: 'operations[0].method', fragment: 'expected one of "GET"', line: 8 },
  },
  {
    file: 'no-description-section.skill.md',
    fails: { field: 'operations[0].description', fragment: 'is missing', line: 7 },
  },
  {
    file: 'onboarding.skill.yaml',
    fails: {
      field: 'onboarding[0].operation',
      fragment: 'is not an operation of this skill',
      line: 7,
    },
  },
  {
    file: 'bad-yaml.skill.yaml',
    fails: { field: '(syntax)', fragment: 'not valid YAML', line: 7 },
  },
];

const compiler = new JsonSchemaCompiler();
const kit = makeKit();

afterAll(() => {
  kit.registry.dispose();
});

async function compile(c: Case): Promise<ReturnType<typeof compileDeclarativeSkill>> {
  const file = path.join(CORPUS, c.file);
  const format = declarativeFormatOf(file);
  if (format === undefined) throw new Error(`${c.file} is not a document`);
  return compileDeclarativeSkill(file, await readFile(file, 'utf8'), format, {
    policy: {
      capabilities: CAPABILITIES,
      allowLoopbackHttp: c.options?.allowLoopbackHttp ?? false,
    },
    compiler,
    force: c.options?.force ?? false,
  });
}

describe('declarative skill corpus', () => {
  it('holds at least 20 documents, each of them covered by a case', async () => {
    const files = await readdir(CORPUS);
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.file))).toEqual(new Set(files));
  });

  for (const c of CASES) {
    const title = `${c.file}${c.options === undefined ? '' : ` ${JSON.stringify(c.options)}`}`;
    if ('loads' in c) {
      it(`${title} compiles and loads in an isolate`, async () => {
        const compiled = await compile(c);
        const m = compiled.manifest;
        expect(m.skill_id).toBe(c.loads.skill_id);
        expect(m.operations.map((o) => o.id)).toEqual(c.loads.operations);
        expect(m.permissions.egress.map((e) => e.origin)).toEqual([c.loads.egress]);
        // The auth secret is bound to the document's one origin.
        if (c.loads.secrets !== undefined)
          expect(m.permissions.secrets).toEqual(
            c.loads.secrets.map((name) => ({ name, origins: [c.loads.egress] })),
          );
        for (const op of m.operations) {
          expect(op.output_schema?.properties).toMatchObject({ taint: { const: 'untrusted' } });
          expect(op.input_schema.additionalProperties).toBe(false);
        }
        // The generated entry really loads: every operation is an export of the module.
        const folder = await writeCompiledSkill(compiled);
        try {
          const loaded = await kit.registry.install(folder.dir);
          expect(loaded.operations.map((o) => o.id)).toEqual(c.loads.operations);
        } finally {
          await folder.cleanup();
        }
      });
    } else {
      it(`${title} is refused naming ${c.fails.field}`, async () => {
        const error = await compile(c).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isAppError(error, 'SKILL_INVALID')).toBe(true);
        const e = error as Error & { details: { field: string; file: string } };
        const file = path.join(CORPUS, c.file);
        expect(e.details.field).toBe(c.fails.field);
        expect(e.details.file).toBe(c.fails.line === 0 ? file : `${file}:${c.fails.line}`);
        expect(e.message).toContain(c.fails.fragment);
        expect(e.message).toContain('Fix:');
      });
    }
  }

  it('never repeats a plain-text secret in its refusal', async () => {
    const error = await compile({
      file: 'secret-bearer.skill.md',
      fails: { field: '', fragment: '', line: 0 },
    }).catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('7f3a9c2e41b84d0f9a6e5c3b2d1f0e9a');
  });
});
