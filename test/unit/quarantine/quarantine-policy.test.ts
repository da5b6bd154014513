import { describe, expect, it } from 'vitest';
import { STRICT_POLICY_PACK } from '../../../main/policy/builtin-packs.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { ttlFor } from '../../../main/quarantine/quarantine-policy.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('quarantine TTL', () => {
  it("comes from the pack's retention when its quarantine block names none", () => {
    expect(ttlFor(STRICT_POLICY_PACK, 'c:any')).toBe(DAY_MS);
    expect(ttlFor(DEFAULT_POLICY_PACK, 'c:any')).toBe(7 * DAY_MS);
  });

  it('takes the quarantine block over retention, and a channel TTL over both', () => {
    const pack = {
      ...DEFAULT_POLICY_PACK,
      retention: { quarantine_ttl_ms: DAY_MS },
      quarantine: { ttl_ms: 2 * DAY_MS, channel_ttl_ms: { fast: 60_000 } },
    };
    expect(ttlFor(pack, 'slow')).toBe(2 * DAY_MS);
    expect(ttlFor(pack, 'fast')).toBe(60_000);
  });
});
