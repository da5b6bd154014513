import { describe, expect, it } from 'vitest';
import type { SkillListEntry, SkillOperation } from '../../../contracts/skills.ts';
import { grantBasisOf } from '../../../main/execute/grant-basis.ts';

const OP: SkillOperation = {
  id: 'post',
  description: 'post a note',
  input_schema: { type: 'object' },
  capabilities: ['net.http'],
  approval: 'always',
};
const SKILL: SkillListEntry = {
  skill_id: 'poster',
  version: '1.0.0',
  name: 'Poster',
  description: 'posts',
  status: 'enabled',
  source: 'test',
  loaded_at: '2026-12-03T00:00:00.000Z',
  operations: [OP],
  permissions: { egress: [], secrets: [], memory_namespaces: [] },
  onboarding: { state: 'READY', step: 0 },
};
const DIFF = [
  { permission: 'execute', to: 'poster__post' },
  { permission: 'capability', to: 'net.http' },
  { permission: 'egress', to: 'POST https://feed.example' },
];
const DIGEST = 'a'.repeat(64);

const basis = (over: Partial<Parameters<typeof grantBasisOf>[0]> = {}) =>
  grantBasisOf({
    kind: 'operation',
    tool: 'poster__post',
    skill: SKILL,
    op: OP,
    skillDigest: DIGEST,
    permissionDiff: DIFF,
    request: { tool: 'poster__post', params: { text: 'hello' } },
    ...over,
  });

/** Issue 22: what a grant matches, and what it deliberately does not. */
describe('grantBasisOf', () => {
  it('ignores the arguments and the order of the permission diff', () => {
    expect(basis({ request: { tool: 'poster__post', params: { text: 'other' } } }).key).toBe(
      basis().key,
    );
    expect(basis({ permissionDiff: [...DIFF].reverse() }).key).toBe(basis().key);
  });

  it('changes with the skill version, its digest, the kind, the diff and the taint gate', () => {
    const keys = [
      basis(),
      basis({ skill: { ...SKILL, version: '1.0.1' } }),
      basis({ skillDigest: 'b'.repeat(64) }),
      basis({ kind: 'capability' }),
      basis({
        permissionDiff: [...DIFF, { permission: 'egress', to: 'POST https://evil.example' }],
      }),
      basis({ permissionDiff: DIFF.slice(1) }),
      basis({ request: { tool: 'poster__post', taint_gate: true } }),
      basis({ tool: 'poster__delete', op: { ...OP, id: 'delete' } }),
    ].map((b) => b.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(basis({ request: { taint_gate: true } }).taint_gated).toBe(true);
    // Only the boolean true marks a taint-gated request, not a truthy string an agent could shape.
    expect(basis({ request: { taint_gate: 'true' } }).taint_gated).toBe(false);
  });
});
