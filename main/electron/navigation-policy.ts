/**
 * Where the desktop window may go (STYLE.md §10): only the gateway's own origin. Anything
 * else a page tries (a link, `window.open`, a redirect) is refused in the window; an http(s)
 * link may open in the person's browser instead.
 */

/** True when `url` is a page of the gateway at `gatewayOrigin` (`http://127.0.0.1:7427`). */
export function isGatewayUrl(url: string, gatewayOrigin: string): boolean {
  const parsed = URL.parse(url);
  return (
    parsed !== null &&
    parsed.origin === gatewayOrigin &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

/**
 * The URL to hand to `shell.openExternal`, or undefined: only http and https, no
 * credentials, no whitespace or control characters — never `file:`, `javascript:`, a custom
 * scheme that starts a program, or a string the OS shell could read differently.
 */
export function externalUrlOf(url: string): string | undefined {
  // Control characters and spaces: rejected before parsing, which would silently drop them.
  if (/[\u0000-\u0020\u007f]/.test(url)) return undefined;
  const parsed = URL.parse(url);
  if (parsed === null) return undefined;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.username !== '' || parsed.password !== '' || parsed.hostname === '') return undefined;
  return parsed.href;
}
