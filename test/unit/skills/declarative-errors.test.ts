import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../main/errors.ts';
import { compileDeclarativeSkill } from '../../../main/skills/declarative/compile-declarative-skill.ts';
import { JsonSchemaCompiler } from '../../../main/skills/manifest/compile-json-schema.ts';

const OPTIONS = {
  policy: { capabilities: new Set(['net.http']), allowLoopbackHttp: false },
  compiler: new JsonSchemaCompiler(),
};

function refusal(yaml: string): { message: string; details: Record<string, unknown> } {
  try {
    compileDeclarativeSkill('skill.yaml', yaml, 'yaml', OPTIONS);
  } catch (e) {
    if (!isAppError(e, 'SKILL_INVALID')) throw e;
    return { message: e.message, details: e.details as Record<string, unknown> };
  }
  throw new Error('expected the document to be refused');
}

describe('declarative skill errors', () => {
  it('reports every independent problem at once, each with its line', () => {
    const { message, details } = refusal(
      [
        'name: Broken',
        'description: Three things are wrong here.',
        'version: one',
        'base_url: https://api.example.com',
        'operations:',
        '  - { id: list, method: GET, path: /items, description: List items. }',
        '  - id: add',
        '    method: GET',
        '    path: /items',
        '    description: Add one.',
        '    parameters: [{ name: text, in: body, type: string }]',
        '  - { id: list, method: GET, path: /other, description: Again. }',
      ].join('\n'),
    );
    expect(message).toMatch(
      /^skill\.yaml:3: version \("one"\) is not a semver version \(and 2 more: /,
    );
    expect(message).toContain(
      'skill.yaml:11: operations[1].parameters[0].in puts "text" in the body of a GET request',
    );
    expect(message).toContain('skill.yaml:12: operations[2].id repeats the operation id "list"');
    expect(details.problems).toHaveLength(3);
  });

  it('a missing operation description is refused with the others, not alone', () => {
    const { message, details } = refusal(
      [
        'name: Undescribed',
        'description: Operations must say what they do.',
        'base_url: https://api.example.com',
        'operations:',
        '  - { id: a, method: GET, path: /a }',
        '  - { id: b, method: GET, path: /b }',
      ].join('\n'),
    );
    expect(message).toMatch(/^skill\.yaml:5: operations\[0\]\.description is missing/);
    expect(message).toContain('(and 1 more: skill.yaml:6: operations[1].description is missing)');
    expect(details.problems).toHaveLength(2);
  });

  it('plain http to loopback names the setting that allows it', () => {
    const { message } = refusal(
      [
        'name: Local',
        'description: A local test server.',
        'base_url: http://127.0.0.1:8080',
        'operations:',
        '  - { id: a, method: GET, path: /a, description: A. }',
      ].join('\n'),
    );
    expect(message).toContain('--allow-loopback-skills');
    expect(message).toContain('CCOS_SKILLS_ALLOW_LOOPBACK=1');
  });
});
