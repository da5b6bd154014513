import { createMiddleware } from 'hono/factory';
import type { GatewayEnv } from './gateway-env.ts';

/**
 * The renderer's Content-Security-Policy: scripts, styles and connections only from the
 * gateway's own origin, no inline script or style (an injected `<script>` or `onclick` does
 * not run), no plugins, no framing, forms post only here.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers on every response, pages and API alike: the CSP above, no MIME sniffing (a JSON
 * body is never run as script), no referrer (a login link's code never leaves in one), no
 * framing, and resources readable only by this origin (`<script src>` from a page on
 * another loopback port gets nothing).
 */
export const securityHeaders = createMiddleware<GatewayEnv>(async (c, next) => {
  await next();
  c.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-frame-options', 'DENY');
  c.header('cross-origin-opener-policy', 'same-origin');
  c.header('cross-origin-resource-policy', 'same-origin');
});
