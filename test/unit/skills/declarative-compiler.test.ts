import { describe, expect, it } from 'vitest';
import { JsonSchemaCompiler } from '../../../main/skills/manifest/compile-json-schema.ts';
import { compileDeclarativeSkill } from '../../../main/skills/declarative/compile-declarative-skill.ts';
import { deriveSkillId } from '../../../main/skills/declarative/derive-skill-id.ts';
import { findPlaintextSecret } from '../../../main/skills/declarative/find-plaintext-secret.ts';

const OPTIONS = {
  policy: { capabilities: new Set(['net.http']), allowLoopbackHttp: false },
  compiler: new JsonSchemaCompiler(),
};

describe('declarative compiler', () => {
  it('keeps document text out of the generated code: it is data in one JSON literal', () => {
    const yaml = [
      'name: Injector',
      'description: Tries to smuggle code through a path.',
      'base_url: https://api.example.com',
      'operations:',
      `  - { id: x, method: GET, path: "/a');globalThis.pwned=1;('", description: "*/ pwned() /*" }`,
    ].join('\n');
    const { entry } = compileDeclarativeSkill('injector.yaml', yaml, 'yaml', OPTIONS);
    const code = entry
      .split('\n')
      .filter((l) => !l.startsWith('const OPERATIONS = JSON.parse('))
      .join('\n');
    expect(code).not.toContain('pwned');
    expect(entry).toContain('export { op0 as "x" };');
  });

  it('derives skill ids deterministically and refuses names without letters', () => {
    expect(deriveSkillId('Café Menu API')).toBe('cafe-menu-api');
    expect(deriveSkillId('  GitHub Issues (read-only) ')).toBe('github-issues-read-only');
    expect(deriveSkillId('42 Weather')).toBe('weather');
    expect(deriveSkillId('A very long name that goes on and on and on')).toBe(
      'a-very-long-name-that-goes-on',
    );
    expect(deriveSkillId('1234 !!!')).toBeUndefined();
  });

  it('tells placeholders from secrets written in plain text', () => {
    for (const fine of [
      'Authorization: Bearer YOUR_API_KEY',
      'Authorization: Bearer <api_key>',
      '-H "Authorization: Bearer $MOLTBOOK_API_KEY"',
      '{ "api_key": "moltbook_sk_xxx" }',
      'auth: { type: bearer, secret: MOLTBOOK_API_KEY }',
      'the api_key: store it immediately',
    ])
      expect(findPlaintextSecret(fine), fine).toBeUndefined();
    for (const leaked of [
      'Authorization: Bearer 7f3a9c2e41b84d0f9a6e',
      'api_key: 9f8e7d6c5b4a3210ffee',
      '"password": "hunter2hunter2"',
      'export KEY=sk-proj-abcdefghijklmnop1234',
      'moltbook_sk_4f1e2d3c4b5a69788796',
      '-----BEGIN RSA PRIVATE KEY-----',
    ])
      expect(findPlaintextSecret(`line one\n${leaked}`), leaked).toMatchObject({ line: 2 });
  });
});
