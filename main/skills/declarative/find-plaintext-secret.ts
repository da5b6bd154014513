/** One credential found written out in a document; never carries the value itself. */
export type PlaintextSecret = { line: number; what: string };

/** Key formats that are credentials wherever they appear. */
const KEY_PATTERNS: readonly { what: string; re: RegExp }[] = [
  { what: 'an API key (sk-…)', re: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/ },
  { what: 'an API key (…_sk_…)', re: /\b[a-z]+_sk_[A-Za-z0-9]{12,}/ },
  { what: 'a GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{20,}/ },
  { what: 'a Slack token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { what: 'an AWS access key', re: /\bAKIA[0-9A-Z]{16}\b/ },
  { what: 'a private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

/** `Authorization: Bearer <token>` (also as a YAML/JSON key or a curl -H argument). */
const AUTH_HEADER = /authorization["']?\s*[:=]\s*["']?\s*(?:bearer|basic|token)\s+([^\s"'`,}]+)/i;

/** `api_key: value`, `"password": "value"`, `token=value`, … */
const SECRET_FIELD =
  /\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key|password|passwd|bearer[_-]?token)["']?\s*[:=]\s*["']?([^\s"'`,}]+)/i;

/**
 * A value that stands for a secret rather than being one: `<api_key>`, `YOUR_API_KEY`,
 * `$MOLTBOOK_API_KEY`, `{{key}}`, `moltbook_sk_xxx`, `...`. Service docs are full of these.
 */
function isPlaceholder(value: string): boolean {
  return (
    /^[<{[$]/.test(value) ||
    /^[A-Z][A-Z0-9_]*$/.test(value) ||
    /x{3,}|\.\.\.|…|your|example|redacted|placeholder|changeme/i.test(value)
  );
}

/** Looks like a credential: long enough, letters and digits mixed. */
function looksLikeCredential(value: string): boolean {
  return value.length >= 8 && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

/**
 * Finds the first credential written in plain text. A skill document is published and
 * copied around; a key in it is leaked, and installing it would send that key without the
 * secret store ever knowing (PEER-LESSONS: Moltbook key leak). Declarative skills name a
 * secret (`auth.secret`) instead.
 */
export function findPlaintextSecret(text: string): PlaintextSecret | undefined {
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    for (const p of KEY_PATTERNS) {
      const m = p.re.exec(line);
      if (m !== null && !isPlaceholder(m[0])) return { line: i + 1, what: p.what };
    }
    const header = AUTH_HEADER.exec(line)?.[1];
    if (header !== undefined && !isPlaceholder(header) && header.length >= 8)
      return { line: i + 1, what: 'a credential in an Authorization header' };
    const field = SECRET_FIELD.exec(line)?.[1];
    if (field !== undefined && !isPlaceholder(field) && looksLikeCredential(field))
      return { line: i + 1, what: 'a credential value' };
  }
  return undefined;
}
