import { createMiddleware } from 'hono/factory';
import { API, type ApiRouteName } from '../../../contracts/api.ts';
import type { GatewayEnv } from '../shared/gateway-env.ts';
import { routeOf } from './route-of.ts';

/** Media types the JSON validator parses (as hono's validator decides). */
const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

type BodyOf = { request?: { body?: { required?: boolean } } };

/** The API routes whose request body is optional. */
const OPTIONAL_BODY = new Set(
  (Object.keys(API) as ApiRouteName[]).filter(
    (name) => (API[name] as BodyOf).request?.body?.required === false,
  ),
);

function hasOptionalBody(method: string, path: string): boolean {
  const name = routeOf(method, path);
  return name !== undefined && OPTIONAL_BODY.has(name);
}

/**
 * On a route whose body is optional (cancel, resume), an empty or blank body sent with a JSON
 * content type means "no body", as many HTTP clients send it; the validator would otherwise
 * refuse it as malformed JSON (issue 17 #31). The request is replaced by one without the
 * content type, so the route sees exactly what a request with no body gives it. A body that
 * is present is parsed and validated as before, and required bodies are untouched.
 */
export const emptyOptionalBody = createMiddleware<GatewayEnv>(async (c, next) => {
  const type = c.req.header('content-type');
  if (
    type === undefined ||
    !JSON_MEDIA.test(type.split(';')[0]?.trim() ?? '') ||
    !hasOptionalBody(c.req.method, c.req.path)
  ) {
    await next();
    return;
  }
  // Read through the request's body cache, so a non-empty body is still there for the validator.
  if ((await c.req.text()).trim() === '') {
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-type');
    headers.delete('content-length');
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers });
  }
  await next();
});
