import type { VerifierIssue, VerifierResult } from '../../contracts/transforms.ts';
import { findIdentifiers, normalized, type MessageIds } from './identifiers.ts';

/** The verifier's limits, from the run's pack (main/quarantine/quarantine-policy.ts). */
export type VerifierLimits = { max_quote_words: number; max_output_chars: number };

/**
 * The issues a verdict lists at most. A hostile output can hold an identifier every few
 * characters; the first ones say enough (the verdict fails either way), and the list goes
 * to the chain and back to the agent. Also why issues are joined with `concat`, not
 * `push(...)`: spreading a few hundred thousand arguments overflows the stack.
 */
export const MAX_VERIFIER_ISSUES = 100;

/** Words as the quote check compares them: lower case, letters and digits only. */
function words(text: string): { word: string; at: number }[] {
  return [...text.matchAll(/[\p{L}\p{N}]+/gu)].map((m) => ({
    word: m[0].toLowerCase(),
    at: m.index,
  }));
}

/**
 * The redaction verifier (CHAT-SECURITY-CONTRACT.md): `ok` only when `output` repeats no
 * run of more than `max_quote_words` consecutive words of `source`, holds no identifier of
 * the listed classes (the message's own sender and channel ids included), and is at most
 * `max_output_chars` long. Deterministic, so the same bytes always get the same verdict;
 * its issues say where and what kind, never the words themselves.
 */
export function verifyRedaction(
  output: string,
  source: string,
  ids: MessageIds,
  limits: VerifierLimits,
): VerifierResult {
  const tooLong: VerifierIssue[] =
    output.length > limits.max_output_chars ? [{ code: 'too_long', length: output.length }] : [];
  return verdict(tooLong.concat(contentIssues(output, source, ids, limits)));
}

/**
 * The verifier on a stored output's exact bytes (canonical JSON): the length is the bytes',
 * and the other checks read the string values the bytes decode to, one per line, so JSON
 * escapes (`\n` between every word) cannot split what a reader would see as a quote or an
 * address, and a quote split over two fields is still one quote. Keys are checked for
 * identifiers too.
 */
export function verifyOutput(
  bytes: string,
  source: string,
  ids: MessageIds,
  limits: VerifierLimits,
): VerifierResult {
  const tooLong: VerifierIssue[] =
    bytes.length > limits.max_output_chars ? [{ code: 'too_long', length: bytes.length }] : [];
  const keys: string[] = [];
  const values = stringsOf(JSON.parse(bytes) as unknown, keys);
  return verdict(
    tooLong.concat(
      contentIssues(values.join('\n'), source, ids, limits),
      identifierIssues(keys.join('\n'), ids),
    ),
  );
}

function verdict(issues: VerifierIssue[]): VerifierResult {
  return { ok: issues.length === 0, issues: issues.slice(0, MAX_VERIFIER_ISSUES) };
}

function identifierIssues(text: string, ids: MessageIds): VerifierIssue[] {
  return findIdentifiers(normalized(text), {
    sender_id: normalized(ids.sender_id),
    channel_id: normalized(ids.channel_id),
  }).map((m) => ({ code: 'identifier', class: m.class, at: m.at }));
}

function contentIssues(
  text: string,
  source: string,
  ids: MessageIds,
  limits: VerifierLimits,
): VerifierIssue[] {
  return identifierIssues(text, ids).concat(
    quotes(normalized(text), normalized(source), limits.max_quote_words),
  );
}

/** Every string value in a JSON value, in document order; object keys go to `keys`. */
function stringsOf(value: unknown, keys: string[]): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => stringsOf(v, keys));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => {
      keys.push(k);
      return stringsOf(v, keys);
    });
  return [];
}

/**
 * Runs of the output's words that appear, in order, in the source and are longer than `max`:
 * every (max+1)-word window of the source is indexed, each output window looked up, and a
 * run of hits is one issue with its full length.
 */
function quotes(output: string, source: string, max: number): VerifierIssue[] {
  const window = max + 1;
  const src = words(source).map((w) => w.word);
  const shingles = new Set<string>();
  for (let i = 0; i + window <= src.length; i++) shingles.add(src.slice(i, i + window).join(' '));
  const out = words(output);
  const issues: VerifierIssue[] = [];
  let i = 0;
  while (i + window <= out.length) {
    const key = (from: number) =>
      out
        .slice(from, from + window)
        .map((w) => w.word)
        .join(' ');
    if (!shingles.has(key(i))) {
      i += 1;
      continue;
    }
    let j = i + 1;
    while (j + window <= out.length && shingles.has(key(j))) j += 1;
    issues.push({ code: 'verbatim_quote', at: out[i]?.at ?? 0, length: j - i + max });
    i = j + max;
  }
  return issues;
}
