import type { PreparedPrompt } from './context-window.ts';

/** What an approval names for an argument no untrusted source holds literally. */
export const THE_WINDOW = 'the window';

/** Shorter values (a flag, a count) are in every text: they name no source. */
const MIN_ARGUMENT = 4;

/**
 * For each argument of a tool call, the untrusted sources whose content holds it literally
 * (as it is, or as a JSON string escapes it), else "the window": the approval a taint-gated
 * call asks shows a person which argument came from where (issue 22).
 */
export function argumentSources(
  args: Readonly<Record<string, unknown>>,
  untrusted: PreparedPrompt['untrusted'],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(args)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const escaped = JSON.stringify(text).slice(1, -1);
    const holders =
      text.length < MIN_ARGUMENT
        ? []
        : untrusted
            .filter((u) => u.content.includes(text) || u.content.includes(escaped))
            .map((u) => u.source.name);
    out[name] = holders.length === 0 ? [THE_WINDOW] : [...new Set(holders)];
  }
  return out;
}
