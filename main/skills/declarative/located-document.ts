import { LineCounter, parseDocument, type Node } from 'yaml';
import { skillInvalid } from '../manifest/skill-invalid.ts';

/** A path into a parsed document, as zod and the compiler report it. */
export type DocPath = readonly PropertyKey[];

/** Finds the 1-based line a value came from; undefined when the path has no source line. */
export type LineLocator = (path: DocPath) => number | undefined;

/** A parsed YAML (or JSON) text together with a way back to its source lines. */
export type LocatedValue = { value: unknown; lineOf: LineLocator };

/** Most alias expansions a document may cause: bounds "billion laughs" documents. */
const MAX_ALIASES = 100;

/**
 * Parses YAML (JSON is a subset) and keeps the line of every node, so a refusal can say
 * `file:line`. `firstLine` is the line the text starts on inside a larger file (front matter,
 * fenced blocks). Syntax errors are SKILL_INVALID naming the line.
 */
export function parseLocatedYaml(label: string, text: string, firstLine = 1): LocatedValue {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  if (error !== undefined) {
    const line = (lines.linePos(error.pos[0]).line || 1) + firstLine - 1;
    throw skillInvalid(
      `${label}:${line}`,
      '(syntax)',
      `is not valid YAML/JSON (${error.code})`,
      'fix the syntax of the block',
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw skillInvalid(
      `${label}:${firstLine}`,
      '(syntax)',
      `could not be read (${e instanceof Error ? e.message : 'invalid document'})`,
      'remove aliases and custom tags',
    );
  }
  const lineOf: LineLocator = (path) => {
    // The deepest node that exists: a missing key is reported where its parent is.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(
        path.slice(0, n).map((k) => (typeof k === 'symbol' ? String(k) : k)),
        true,
      ) as Node | undefined;
      const offset = n === 0 ? doc.contents?.range[0] : node?.range?.[0];
      if (offset !== undefined) return lines.linePos(offset).line + firstLine - 1;
    }
    return undefined;
  };
  return { value, lineOf };
}

/** `file:line` when the line is known, else the file. */
export function at(label: string, line: number | undefined): string {
  return line === undefined ? label : `${label}:${line}`;
}
