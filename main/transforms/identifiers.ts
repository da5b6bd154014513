/**
 * The identifier classes the redaction verifier looks for and the redact transform
 * replaces (issue 22): email addresses, URLs, phone numbers, @handles, and the message's
 * own sender and channel ids. Every pattern is bounded, so a hostile message cannot make
 * matching take more than linear-ish time.
 */
export type IdentifierClass = 'email' | 'url' | 'phone' | 'handle' | 'sender_id' | 'channel_id';

/** One identifier found in a text: its class and its span. */
export type IdentifierMatch = { class: IdentifierClass; at: number; length: number };

/** The ids of the message itself: they are identifiers wherever they appear. */
export type MessageIds = { sender_id: string; channel_id: string };

const PATTERNS: readonly { class: IdentifierClass; pattern: RegExp }[] = [
  {
    class: 'email',
    // Starts only where a local part can: without the lookbehind a long run of letters is
    // retried from every position (64 steps each, seconds for a 1 MiB message).
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g,
  },
  { class: 'url', pattern: /\b(?:[a-z][a-z0-9+.-]{1,20}:\/\/|www\.)[^\s<>"'`]{1,2048}/gi },
  // A + or a digit, then 6 to 20 digits or separators, ending on a digit (checked below).
  { class: 'phone', pattern: /(?<![\w])\+?\d[\d\s().-]{5,20}\d(?![\w])/g },
  // Not after a word character: `name@host` is an email, not a handle.
  { class: 'handle', pattern: /(?<![\w.@])@[A-Za-z0-9_]{2,30}(?![\w@])/g },
];
const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;
/** A calendar date or a time is not a phone number. */
const DATE_OR_TIME =
  /^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?)$/;
/** Ids shorter than this are too common as words to look for. */
const MIN_ID_LENGTH = 3;

/** Every identifier in `text`, in order of position; overlapping matches keep the first. */
export function findIdentifiers(text: string, ids: MessageIds): IdentifierMatch[] {
  const found: IdentifierMatch[] = [];
  for (const [cls, id] of [
    ['sender_id', ids.sender_id],
    ['channel_id', ids.channel_id],
  ] as const) {
    if (id.length < MIN_ID_LENGTH) continue;
    const haystack = text.toLowerCase();
    const needle = id.toLowerCase();
    for (
      let i = haystack.indexOf(needle);
      i !== -1;
      i = haystack.indexOf(needle, i + needle.length)
    )
      found.push({ class: cls, at: i, length: id.length });
  }
  for (const { class: cls, pattern } of PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      if (cls === 'phone' && !isPhone(m[0])) continue;
      found.push({ class: cls, at: m.index, length: m[0].length });
    }
  }
  found.sort((a, b) => a.at - b.at || b.length - a.length);
  const kept: IdentifierMatch[] = [];
  let end = 0;
  for (const m of found) {
    if (m.at < end) continue;
    kept.push(m);
    end = m.at + m.length;
  }
  return kept;
}

function isPhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  return (
    digits >= MIN_PHONE_DIGITS && digits <= MAX_PHONE_DIGITS && !DATE_OR_TIME.test(candidate.trim())
  );
}

/** The placeholder an identifier of `cls` is replaced with. */
export function placeholderOf(cls: IdentifierClass): string {
  return cls === 'sender_id' ? '[sender]' : cls === 'channel_id' ? '[channel]' : `[${cls}]`;
}

/** `text` with every identifier replaced by its class's placeholder. */
export function replaceIdentifiers(text: string, ids: MessageIds): string {
  let out = '';
  let last = 0;
  for (const m of findIdentifiers(text, ids)) {
    out += text.slice(last, m.at) + placeholderOf(m.class);
    last = m.at + m.length;
  }
  return out + text.slice(last);
}

/**
 * Text as identifier and quote checks read it: compatibility forms folded (a full-width `＠`
 * is an `@`) and invisible format characters removed (a zero-width space inside a word or
 * an address hides nothing). Homoglyphs from other scripts are not folded.
 */
export function normalized(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '');
}
