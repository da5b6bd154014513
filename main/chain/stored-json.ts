import { visit, type ParseErrorCode } from 'jsonc-parser';

/**
 * Whether the text has an object key holding an escape: a string literal with a backslash,
 * followed by `:` (only a key can be). One pass, linear in the text — a regular expression
 * for this backtracks badly on a long run of backslashes.
 */
function hasEscapedKey(text: string): boolean {
  let i = text.indexOf('"');
  while (i !== -1) {
    let escaped = false;
    let j = i + 1;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) {
        escaped = true;
        j++;
      } else if (c === 0x22) break;
    }
    if (escaped) {
      let k = j + 1;
      while (k < text.length && ' \t\n\r'.includes(text.charAt(k))) k++;
      if (text.charAt(k) === ':') return true;
    }
    i = text.indexOf('"', j + 1);
  }
  return false;
}

/**
 * `JSON.parse` for JSON the host stored and will hash again (chain entries, exports). V8 can
 * read an escaped key back as another escaped key it parsed before — `"\""` as `"\\"` —
 * (nodejs/node#63785, open on Node 24 and 26), which would make a verifier recompute another
 * hash and report a break that is not one. Text with such a key is parsed by jsonc-parser's
 * own scanner instead, strictly (no comments, no trailing commas); all other text, nearly
 * all, by `JSON.parse`. Throws `SyntaxError` on invalid JSON either way.
 */
export function parseStoredJson(text: string): unknown {
  if (!hasEscapedKey(text)) return JSON.parse(text);
  return parseWithScanner(text);
}

type Container =
  | { kind: 'object'; value: Record<string, unknown>; key: string | undefined }
  | {
      kind: 'array';
      value: unknown[];
    };

function parseWithScanner(text: string): unknown {
  const stack: Container[] = [];
  // Written by the visitor's callbacks: an object, so the reads below are not narrowed away.
  const out: { root?: { value: unknown }; failure?: { code: ParseErrorCode; offset: number } } = {};
  const put = (value: unknown): void => {
    const top = stack.at(-1);
    if (top === undefined) {
      out.root = { value };
    } else if (top.kind === 'array') {
      top.value.push(value);
    } else {
      // An own property, as JSON.parse makes it: `__proto__` is a key, not the prototype.
      Object.defineProperty(top.value, top.key ?? '', {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  };
  visit(
    text,
    {
      onObjectBegin: () => {
        stack.push({ kind: 'object', value: {}, key: undefined });
      },
      onObjectProperty: (property) => {
        const top = stack.at(-1);
        if (top?.kind === 'object') top.key = property;
      },
      onObjectEnd: () => {
        const done = stack.pop();
        put(done?.value);
      },
      onArrayBegin: () => {
        stack.push({ kind: 'array', value: [] });
      },
      onArrayEnd: () => {
        const done = stack.pop();
        put(done?.value);
      },
      onLiteralValue: (value: unknown) => {
        put(value);
      },
      onError: (code, offset) => {
        out.failure ??= { code, offset };
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  if (out.failure !== undefined || out.root === undefined)
    throw new SyntaxError(
      `invalid JSON at offset ${String(out.failure?.offset ?? 0)} (code ${String(out.failure?.code ?? 'empty')})`,
    );
  return out.root.value;
}
