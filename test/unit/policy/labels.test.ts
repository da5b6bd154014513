import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelAtomSchema, type LabelAtom } from '../../../contracts/labels.ts';
import {
  PUBLIC,
  UNKNOWN,
  describeLabel,
  equals,
  fieldLabel,
  includes,
  join,
  joinTaint,
  label,
  leq,
  type Label,
} from '../../../main/policy/labels.ts';

const atom = fc.constantFrom<LabelAtom>(...labelAtomSchema.options);
const anyLabel: fc.Arbitrary<Label> = fc
  .array(fc.oneof(atom, fc.constant('public' as const)), { maxLength: 6 })
  .map((items) => label(items));

/** Issue 22: the label lattice is a lattice — join is the least upper bound of `leq`. */
describe('labels', () => {
  it('orders atoms as the contract says', () => {
    expect(leq(PUBLIC, label('pii.redacted'))).toBe(true);
    for (const pii of ['pii.chat.message', 'pii.chat.metadata', 'pii.attachment'] as const) {
      expect(leq(label('pii.redacted'), label(pii))).toBe(true);
      expect(leq(label(pii), label('pii.redacted'))).toBe(false);
      // secret.token is incomparable with every pii.* label, either way.
      expect(leq(label('secret.token'), label(pii))).toBe(false);
      expect(leq(label(pii), label('secret.token'))).toBe(false);
    }
    expect(leq(label('pii.chat.message'), label('pii.chat.metadata'))).toBe(false);
    expect(leq(label('internal.system'), label('pii.chat.message'))).toBe(false);
    expect(describeLabel(join(label('pii.redacted'), label('pii.chat.message')))).toBe(
      'pii.chat.message',
    );
    expect(describeLabel(join(label('secret.token'), label('pii.redacted')))).toBe(
      'pii.redacted+secret.token',
    );
    expect(describeLabel(PUBLIC)).toBe('public');
    expect(includes(label('pii.chat.message'), 'pii.redacted')).toBe(true);
    expect(includes(label('pii.redacted'), 'pii.chat.message')).toBe(false);
  });

  it('join is commutative, associative and idempotent, with public as identity', () => {
    fc.assert(
      fc.property(anyLabel, anyLabel, anyLabel, (a, b, c) => {
        expect(equals(join(a, b), join(b, a))).toBe(true);
        expect(equals(join(join(a, b), c), join(a, join(b, c)))).toBe(true);
        expect(equals(join(a, a), a)).toBe(true);
        expect(equals(join(a, PUBLIC), a)).toBe(true);
      }),
    );
  });

  it('join is monotone and the least upper bound; leq is a partial order', () => {
    fc.assert(
      fc.property(anyLabel, anyLabel, anyLabel, (a, b, c) => {
        expect(leq(a, join(a, b))).toBe(true);
        expect(leq(b, join(a, b))).toBe(true);
        if (leq(a, c) && leq(b, c)) expect(leq(join(a, b), c)).toBe(true);
        if (leq(a, b)) expect(leq(join(a, c), join(b, c))).toBe(true);
        expect(leq(a, a)).toBe(true);
        if (leq(a, b) && leq(b, a)) expect(equals(a, b)).toBe(true);
        if (leq(a, b) && leq(b, c)) expect(leq(a, c)).toBe(true);
      }),
    );
  });

  it('a field without a label takes the most restrictive sibling’s; nothing known is PII', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), anyLabel), (labels) => {
        const missing = fieldLabel(labels, '\u0000not-a-field');
        for (const sibling of Object.values(labels)) expect(leq(sibling, missing)).toBe(true);
        for (const [field, own] of Object.entries(labels))
          expect(equals(fieldLabel(labels, field), own)).toBe(true);
      }),
    );
    expect(fieldLabel({}, 'text')).toBe(UNKNOWN);
    expect(fieldLabel({ __proto__: label('secret.token') }, 'text')).toBe(UNKNOWN);
    expect(leq(label('pii.chat.message'), UNKNOWN)).toBe(true);
    expect(leq(PUBLIC, UNKNOWN) && !leq(UNKNOWN, PUBLIC)).toBe(true);
  });

  it('anything derived from an untrusted input is untrusted', () => {
    expect(joinTaint()).toBe('trusted');
    expect(joinTaint('trusted', 'trusted')).toBe('trusted');
    expect(joinTaint('trusted', 'untrusted', 'trusted')).toBe('untrusted');
  });
});
