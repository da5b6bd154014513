import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../main/chain/canonical-json.ts';
import { parseStoredJson } from '../../../main/chain/stored-json.ts';

/** Parsing this first makes V8 read a later `"\""` key back as `"\\"` (nodejs/node#63785). */
const POISON = '{"h":[],"\\\\":0}';
const VICTIM = '{"h":1,"\\"":2}';

describe('parseStoredJson', () => {
  it('reads an escaped quote key as itself where V8 reads it as the backslash key parsed before', () => {
    JSON.parse(POISON);
    expect(Object.keys(parseStoredJson(VICTIM) as object)).toEqual(['h', '"']);
    // Longer keys too: `a\"` after `a\\`.
    JSON.parse('{"h":[],"a\\\\":0}');
    expect(Object.keys(parseStoredJson('{"h":1,"a\\"":2}') as object)).toEqual(['h', 'a"']);
  });

  it('property: gives back exactly what canonicalJson wrote, escaped keys included, after any earlier parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (before, value) => {
        JSON.parse(canonicalJson(before));
        const text = canonicalJson(value);
        expect(canonicalJson(parseStoredJson(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('makes __proto__ an own key, as JSON.parse does, on either road', () => {
    for (const text of [
      '{"__proto__":{"polluted":1}}',
      '{"\\u005f_proto__":{"polluted":1},"a\\"":1}',
    ]) {
      const parsed = parseStoredJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('refuses what JSON.parse refuses, on the scanner road too', () => {
    for (const bad of [
      '{"a\\"":1,}',
      '{"a\\"":1 /* c */}',
      '{"a\\"":1} x',
      '{"a\\"":1',
      "{'a\\\"':1}",
      '{"a\\"":01}',
    ]) {
      expect(() => JSON.parse(bad) as unknown, bad).toThrow(SyntaxError);
      expect(() => parseStoredJson(bad), bad).toThrow(SyntaxError);
    }
  });
});

describe('parseStoredJson on hostile text', () => {
  it('decides which road in one pass, whatever the run of backslashes', () => {
    const long = `{"a":"${'\\\\'.repeat(200_000)}","b\\"":1}`;
    expect(Object.keys(parseStoredJson(long) as object)).toEqual(['a', 'b"']);
    const noKey = `["${'\\\\'.repeat(200_000)}"]`;
    expect((parseStoredJson(noKey) as string[])[0]).toHaveLength(200_000);
  });
});
