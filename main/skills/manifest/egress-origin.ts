/** Hosts that count as this machine: plain http to them is allowed only when policy says so. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why an origin string is refused, or the canonical origin when it is acceptable. */
export type OriginCheck = { ok: true; origin: string } | { ok: false; reason: string };

/**
 * Checks one manifest egress origin: exactly `scheme://host[:port]`, no wildcard, no
 * credentials, no path, https only (http only to loopback, and only when allowed).
 */
export function checkEgressOrigin(value: string, allowLoopbackHttp: boolean): OriginCheck {
  if (value.includes('*'))
    return { ok: false, reason: 'wildcard origins are not allowed; list each origin exactly' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'is not a URL origin such as https://api.example.com' };
  }
  if (url.username !== '' || url.password !== '')
    return { ok: false, reason: 'must not carry credentials; use a $secret header instead' };
  // An origin is exactly scheme://host[:port]; anything after it would suggest a path rule we do not enforce.
  if (url.origin !== value.replace(/\/$/, '')) {
    return {
      ok: false,
      reason: `must be an origin only (scheme://host[:port]), e.g. ${url.origin}`,
    };
  }
  if (url.protocol === 'https:') return { ok: true, origin: url.origin };
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return allowLoopbackHttp
      ? { ok: true, origin: url.origin }
      : {
          ok: false,
          reason:
            'plain http to loopback is not allowed on this host; for a local test server start it with `ccos serve --allow-loopback-skills` (or CCOS_SKILLS_ALLOW_LOOPBACK=1)',
        };
  }
  return { ok: false, reason: 'must use https (plain http is only for loopback)' };
}

/** The origin of a URL a skill wants to reach, or undefined when it is not an http(s) URL. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    if (u.username !== '' || u.password !== '') return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}
