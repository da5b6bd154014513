/**
 * The spellings of a secret value that commonly reach text without the value itself: hex
 * (either case), URL-encoding (as `encodeURIComponent` writes it, with lower-case escapes,
 * RFC 3986-strict, and form-encoded), and base64 / base64url — for base64 at each of the three alignments the
 * value can have inside a longer encoded blob, keeping only the characters the value alone
 * decides (the ones at the edges mix in neighbouring bytes). A redactor that knows these
 * catches a secret a skill or a log line encoded, not only the plain one.
 */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>();
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  const uri = encodeURIComponent(value);
  forms.add(uri);
  forms.add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  // RFC 3986 strict (what many query-string libraries write) and HTML form encoding.
  forms.add(uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  for (const alignment of [0, 1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(alignment), bytes]).toString('base64');
    // Base64 character c holds bits [6c, 6c + 6): keep those entirely inside the value's bits.
    const first = Math.ceil((8 * alignment) / 6);
    const end = Math.floor((8 * (alignment + bytes.length)) / 6);
    const core = shifted.slice(first, end);
    forms.add(core);
    forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  forms.delete(value);
  return [...forms];
}
