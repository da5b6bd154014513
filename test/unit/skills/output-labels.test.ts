import { describe, expect, it } from 'vitest';
import type { SkillListEntry, SkillOperation } from '../../../contracts/skills.ts';
import { outcomeLabelsOf } from '../../../main/execute/outcome-labels.ts';
import { PUBLIC, UNKNOWN, label } from '../../../main/policy/labels.ts';
import { outputLabelsOf } from '../../../main/skills/manifest/output-labels.ts';

function op(overrides: Partial<SkillOperation> = {}): SkillOperation {
  return {
    id: 'read',
    description: 'reads',
    input_schema: { type: 'object' },
    capabilities: ['compute.pure'],
    approval: 'never',
    ...overrides,
  };
}

function skill(operations: SkillOperation[], egress: string[] = []): SkillListEntry {
  return {
    skill_id: 'feed',
    version: '1.2.3',
    name: 'Feed',
    description: 'A feed.',
    status: 'enabled',
    source: 'test',
    loaded_at: '2026-01-01T00:00:00.000Z',
    operations,
    permissions: {
      egress: egress.map((origin) => ({ origin, methods: ['GET'] })),
      secrets: [],
      memory_namespaces: [],
    },
    onboarding: { state: 'READY', step: 0 },
  };
}

describe('an operation’s output labels', () => {
  it('carry the declared label and name the skill, version and operation', () => {
    const o = op({ output_label: 'pii.chat.message' });
    expect(outputLabelsOf(skill([o]), o)).toEqual({
      label: label('pii.chat.message'),
      taint: 'trusted',
      source: 'skill feed@1.2.3 op read',
    });
  });

  it('are UNKNOWN (the personal-data atoms) when the manifest declares no label', () => {
    const o = op();
    expect(outputLabelsOf(skill([o]), o).label).toEqual(UNKNOWN);
  });

  it('are untrusted for a declarative operation, whatever it declares', () => {
    const o = op({ http: { method: 'GET', url: 'https://x.test/a' }, output_taint: 'trusted' });
    expect(outputLabelsOf(skill([o]), o).taint).toBe('untrusted');
  });

  it('are untrusted for a code operation that can reach the network, even declared trusted', () => {
    const viaCapability = op({ capabilities: ['net.http'], output_taint: 'trusted' });
    expect(outputLabelsOf(skill([viaCapability]), viaCapability).taint).toBe('untrusted');
    const viaEgress = op({ output_taint: 'trusted' });
    expect(outputLabelsOf(skill([viaEgress], ['https://x.test']), viaEgress).taint).toBe(
      'untrusted',
    );
  });

  it('may be declared untrusted by a pure operation (it passes on what it was given)', () => {
    const o = op({ output_taint: 'untrusted', output_label: 'public' });
    expect(outputLabelsOf(skill([o]), o)).toMatchObject({ label: PUBLIC, taint: 'untrusted' });
  });
});

describe('a tool call outcome’s labels', () => {
  const o = op({ output_label: 'pii.attachment', capabilities: ['net.http'] });
  const s = skill([o]);

  it('are the operation’s for its output and for its error (which may quote a server)', () => {
    expect(outcomeLabelsOf(s, 'feed__read', { status: 'ok', output: 1 })?.label).toEqual(
      label('pii.attachment'),
    );
    expect(
      outcomeLabelsOf(s, 'feed__read', { status: 'error', code: 'X', message: 'm' })?.taint,
    ).toBe('untrusted');
  });

  it('are the host’s (public, trusted) for a refusal, a pause or an unknown tool', () => {
    const host = { label: PUBLIC, taint: 'trusted', source: 'the host' };
    expect(outcomeLabelsOf(s, 'feed__read', { status: 'refused', reason: 'no' })).toEqual(host);
    expect(
      outcomeLabelsOf(undefined, 'nope__x', { status: 'error', code: 'NOT_FOUND', message: 'm' }),
    ).toEqual(host);
  });

  it('are unknown when a skill answered through a tool that is none of its operations', () => {
    expect(outcomeLabelsOf(s, 'ccos__skill_load', { status: 'ok', output: {} })).toBeUndefined();
  });
});
