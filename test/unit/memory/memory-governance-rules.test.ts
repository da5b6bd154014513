import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MemoryAudience } from '../../../contracts/memory.ts';
import { policyPackSchema } from '../../../contracts/policy.ts';
import { viewMemoryItem } from '../../../main/memory/memory-admin.ts';
import { audienceWithin } from '../../../main/memory/memory-audience.ts';
import { memoryPolicyOf } from '../../../main/memory/memory-policy.ts';
import {
  parseLabelColumn,
  parseSourceColumn,
  recordOf,
  sourceColumn,
  type MemoryRecord,
} from '../../../main/memory/memory-record.ts';
import { equals, join, label, PUBLIC, UNKNOWN } from '../../../main/policy/labels.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { Redactor } from '../../../main/policy/redactor.ts';

describe('audiences: a write may not ask for a wider one than its namespace allows', () => {
  const all: MemoryAudience[] = ['ui_only', 'run', 'session', 'schedule', 'connector', 'namespace'];
  it.each([
    ['run', 'session', true],
    ['session', 'run', false],
    ['ui_only', 'run', true],
    ['schedule', 'connector', false],
    ['connector', 'schedule', false],
    ['session', 'schedule', true],
    ['namespace', 'session', false],
  ] as const)('%s within %s: %s', (a, b, expected) => {
    expect(audienceWithin(a, b)).toBe(expected);
  });
  it('every audience is within itself', () => {
    for (const a of all) expect(audienceWithin(a, a)).toBe(true);
  });
});

describe('stored columns are read fail-closed', () => {
  it('an unreadable label is unknown PII, never public', () => {
    expect(equals(parseLabelColumn('pii.bogus'), UNKNOWN)).toBe(true);
    expect(equals(parseLabelColumn('public'), PUBLIC)).toBe(true);
    expect(
      equals(
        parseLabelColumn('pii.redacted+internal.system'),
        label(['pii.redacted', 'internal.system']),
      ),
    ).toBe(true);
  });

  it('sources round-trip: skill with version, agent, person, host', () => {
    for (const s of [
      { kind: 'skill', id: 'echo-notes', version: '1.0.0' },
      { kind: 'agent', id: 'run_1', version: null },
      { kind: 'person', id: 'admin', version: null },
      { kind: 'host', id: '', version: null },
    ] as const)
      expect(parseSourceColumn(sourceColumn(s))).toEqual(s);
  });

  it('an unknown audience admits only the person, an unknown taint is untrusted', () => {
    const r = recordOf({
      id: 'mem_1',
      namespace: 'n',
      key: 'k',
      value: '1',
      label: 'public',
      taint: 'mystery',
      source: 'host',
      run_id: null,
      step_id: null,
      session_id: null,
      audience: 'everyone',
      audience_id: '',
      expires_at: null,
      created_at: 't',
      updated_at: 't',
    });
    expect(r.audience).toBe('ui_only');
    expect(r.taint).toBe('untrusted');
  });
});

describe("the person's view of an item", () => {
  const redactor = new Redactor();
  const admin = {
    view: (r: MemoryRecord, viewer: { admin: boolean }) => viewMemoryItem(redactor, r, viewer),
  };
  const record = (value: unknown, l = PUBLIC): MemoryRecord => ({
    id: 'mem_1',
    namespace: 'session:ses_1',
    key: 'k',
    value,
    label: l,
    taint: 'untrusted',
    source: { kind: 'agent', id: 'run_1', version: null },
    run_id: 'run_1',
    step_id: null,
    session_id: 'ses_1',
    audience: 'session',
    audience_id: 'ses_1',
    expires_at: null,
    created_at: 't',
    updated_at: 't',
  });

  it('masks a secret the redactor learned after the item was stored', () => {
    const secret = `late${randomBytes(12).toString('hex')}`;
    const stored = record({ note: `it is ${secret}` });
    redactor.addKnownValue(secret);
    const view = admin.view(stored, { admin: true });
    expect(JSON.stringify(view)).not.toContain(secret);
    expect(view.value_withheld).toBe(true);
  });

  it('shows personal data to an admin only, and a secret-labelled value to nobody', () => {
    const pii = record('Alice, 42', label('pii.chat.message'));
    expect(admin.view(pii, { admin: true }).value).toBe('Alice, 42');
    expect(admin.view(pii, { admin: false })).toMatchObject({ value: null, value_withheld: true });
    const secret = record('x', label('secret.token'));
    expect(admin.view(secret, { admin: true })).toMatchObject({
      value: null,
      value_withheld: true,
    });
  });
});

describe('pack fields of governed memory', () => {
  it('are optional: the default pack still parses and gets the defaults, its memory expiry from its retention', () => {
    const parsed = policyPackSchema.parse(DEFAULT_POLICY_PACK);
    const policy = memoryPolicyOf(parsed);
    expect(policy.shared).toEqual([]);
    // The pack's retention: memory items 90 days.
    expect(policy.defaultTtlMs).toBe(90 * 24 * 60 * 60 * 1000);
    expect(memoryPolicyOf({ ...parsed, retention: {} }).defaultTtlMs).toBeNull();
    expect(memoryPolicyOf({ ...parsed, memory_default_ttl_ms: 5000 }).defaultTtlMs).toBe(5000);
    expect(equals(policy.agentReadable, join(UNKNOWN, label('internal.system')))).toBe(true);
  });

  it('take shared namespaces with an audience, and refuse a name that could spell a stored one', () => {
    const ok = policyPackSchema.parse({
      ...DEFAULT_POLICY_PACK,
      memory_shared_namespaces: [{ name: 'facts' }],
      memory_agent_readable: 'public',
    });
    expect(memoryPolicyOf(ok).shared).toEqual([{ name: 'facts', audience: 'session' }]);
    expect(equals(memoryPolicyOf(ok).agentReadable, PUBLIC)).toBe(true);
    expect(
      policyPackSchema.safeParse({
        ...DEFAULT_POLICY_PACK,
        memory_shared_namespaces: [{ name: 'session:ses_1' }],
      }).success,
    ).toBe(false);
  });
});
