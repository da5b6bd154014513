import { describe, expect, it } from 'vitest';
import { REDACTED_SECRET, Redactor } from '../../../main/policy/redactor.ts';

/**
 * Issue 17 #28: skill output is JSON data in which `__proto__` is an ordinary key. A plain
 * assignment `out['__proto__'] = v` sets the copy's prototype instead, so the key vanished
 * from what was recorded and the copy inherited the skill's values.
 */
describe('Redactor keeps __proto__ keys as data', () => {
  const text =
    '{"__proto__":{"admin":true,"note":"hunter2-very-secret"},"constructor":{"prototype":{"x":1}},"ok":1}';

  it('copies an own __proto__ key as an own key, redacted like any other', () => {
    const r = new Redactor();
    r.addKnownValue('hunter2-very-secret');
    const out = r.redactValue(JSON.parse(text) as unknown) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { admin?: unknown }).admin).toBeUndefined();
    expect(JSON.stringify(out)).toBe(text.replace('hunter2-very-secret', REDACTED_SECRET));
  });

  it('keeps __proto__ keys nested in arrays and in errors', () => {
    const r = new Redactor();
    const nested = JSON.parse(`[${text}]`) as unknown;
    expect(JSON.stringify(r.redactValue(nested))).toBe(`[${text}]`);
    // Not Object.assign: its [[Set]] would change the error's prototype, the very bug.
    const error = new Error('boom');
    Object.defineProperty(error, '__proto__', { value: { admin: true }, enumerable: true });
    const copy: unknown = r.redactValue(error);
    expect(Object.hasOwn(copy as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('pollutes no prototype', () => {
    new Redactor().redactValue(JSON.parse('{"__proto__":{"polluted":"yes"}}') as unknown);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
