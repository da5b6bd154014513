const WRITE_VERBS = new Set(['insert', 'update', 'delete', 'replace']);
const MAIN_VERBS = new Set(['select', 'values', ...WRITE_VERBS]);

/**
 * Whether a statement changes rows without returning any: an INSERT, UPDATE, DELETE or
 * REPLACE (also after a WITH clause) without RETURNING. The sqlite3 dialect runs those with
 * `Statement.run`, which reports the changed-row count and last rowid; everything else with
 * `Statement.all`, which returns rows but not those counts. The `sqlite3` package cannot
 * say whether a prepared statement returns rows, so this reads the SQL, as kysely's
 * better-sqlite3 dialect asks `Statement.reader`. Raw SQL (`sql\`update …\``) needs it: its
 * query node says nothing about what the text does.
 *
 * A mistake in the safe direction only costs the counts; the unsafe one — a statement that
 * returns rows classified as a rowless write — cannot happen, since SQLite returns rows
 * from such a statement only through a top-level RETURNING.
 */
export function isRowlessWrite(sql: string): boolean {
  const words = topLevelWords(sql);
  let verb = words[0];
  if (verb === 'with') verb = words.find((w) => MAIN_VERBS.has(w));
  return verb !== undefined && WRITE_VERBS.has(verb) && !words.includes('returning');
}

/**
 * Lower-cased words outside parentheses, string literals, quoted identifiers and
 * comments: the skeleton of the statement, without subqueries and CTE bodies.
 */
function topLevelWords(sql: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql.charAt(i);
    if (c === '-' && sql.charAt(i + 1) === '-') {
      i = endOf(sql, '\n', i + 2);
    } else if (c === '/' && sql.charAt(i + 1) === '*') {
      i = endOf(sql, '*/', i + 2);
    } else if (c === "'" || c === '"' || c === '`') {
      // A doubled quote inside is an escaped quote: two adjacent literals scan the same.
      i = endOf(sql, c, i + 1);
    } else if (c === '[') {
      i = endOf(sql, ']', i + 1);
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth--;
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql.charAt(i))) i++;
      if (depth === 0) words.push(sql.slice(start, i).toLowerCase());
    } else {
      i++;
    }
  }
  return words;
}

/** The index just past the next `close` at or after `from`, or the end of `sql`. */
function endOf(sql: string, close: string, from: number): number {
  const at = sql.indexOf(close, from);
  return at === -1 ? sql.length : at + close.length;
}
