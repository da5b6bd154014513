import { RE2JS } from 're2js';
import { AppError } from '../../errors.ts';

/**
 * Largest compiled pattern accepted. RE2 matches in time linear in the input, but the factor
 * grows with the program: 1,000 instructions kept a 1 Mi-character near-miss under ~150 ms in
 * a probe, while 3,000 took 15 s on 100 Ki characters (docs/skills-sandbox.md, Schema patterns).
 */
export const MAX_PATTERN_INSTRUCTIONS = 1000;

/** What Ajv's `code.regExp` option expects: `(pattern, flags) => { test }`, with `code` for standalone output. */
export type LinearRegExpEngine = {
  (pattern: string, flags: string): { test: (s: string) => boolean; toString: () => string };
  code: string;
};

const FIX =
  'rewrite the pattern without backreferences, lookahead or lookbehind, and keep repetition counts small (schema patterns run on a linear-time engine, RE2 syntax; see docs/skills-sandbox.md)';

/**
 * Compiles JSON Schema `pattern`s (and `patternProperties` keys) with RE2 instead of V8's
 * backtracking engine. Schemas come from untrusted skill documents and Ajv validates on the
 * host's main thread: a pattern such as `^(a+)+$` met by a near-miss string froze the whole
 * host for seconds to minutes (issue 17 #24). Anything RE2 cannot run in linear time is
 * refused here, at schema compile time, so a skill carrying it is refused at load.
 */
export const linearRegExp: LinearRegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    // JSON Schema patterns are ECMA-262 regular expressions: first check they are valid as such,
    // in Unicode mode, which also makes every escape below unambiguous.
    try {
      new RegExp(pattern, 'u');
    } catch (e) {
      throw unsupported(pattern, `is not a valid regular expression (${messageOf(e)})`);
    }
    if (hasNamedBackreference(pattern)) {
      // re2js's translator would turn `\k<name>` into the literal text `k<name>`.
      throw unsupported(pattern, 'uses a backreference');
    }
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (e) {
      throw unsupported(pattern, `cannot run in linear time (${messageOf(e)})`);
    }
    // re2js types its compiled program as `any`; `numInst` is its instruction count.
    const program = compiled.re2().prog as { numInst: () => number };
    const size = program.numInst();
    if (size > MAX_PATTERN_INSTRUCTIONS) {
      throw unsupported(
        pattern,
        `compiles to ${size} instructions, over the limit of ${MAX_PATTERN_INSTRUCTIONS}`,
      );
    }
    const source = `/${pattern}/${flags}`;
    return {
      test: (s: string) => compiled.test(s),
      // Ajv caches compiled patterns by this string: it must differ for different patterns.
      toString: () => source,
    };
  },
  { code: 'linearRegExp (main/skills/manifest/linear-regexp.ts)' },
);

/** `\k` outside a `\\` pair; in Unicode mode it can only be a named backreference. */
function hasNamedBackreference(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    if (pattern[i + 1] === 'k') return true;
    i += 1;
  }
  return false;
}

function unsupported(pattern: string, problem: string): AppError {
  const shown = pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern;
  return new AppError('SKILL_INVALID', `pattern ${JSON.stringify(shown)} ${problem}`, {
    pattern: shown,
    fix: FIX,
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
