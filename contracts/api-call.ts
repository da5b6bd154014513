import type { z } from 'zod';
import { API, type ApiRouteName } from './api.ts';

/**
 * The request and response types of each API route, derived from `API` (contracts/api.ts),
 * so every client — the CLI's and the renderer's — calls the routes the server defines with
 * the types the server validates, and no client declares a type of its own.
 */

type Part<R, K extends string> = R extends { request: Record<K, infer S> }
  ? S extends z.ZodType
    ? z.input<S>
    : S extends { content: { 'application/json': { schema: infer B extends z.ZodType } } }
      ? z.input<B>
      : never
  : never;

/** What a call to route N takes: path params, query, headers, body, as the contract says. */
export type CallInput<N extends ApiRouteName> = {
  params?: Part<(typeof API)[N], 'params'>;
  query?: Part<(typeof API)[N], 'query'>;
  headers?: Part<(typeof API)[N], 'headers'>;
  body?: Part<(typeof API)[N], 'body'>;
};

type SuccessSchema<R> = R extends { responses: infer Rs }
  ? Rs extends { 200: { content: { 'application/json': { schema: infer S extends z.ZodType } } } }
    ? S
    : Rs extends { 201: { content: { 'application/json': { schema: infer S extends z.ZodType } } } }
      ? S
      : never
  : never;

/** What a call to route N returns on success, parsed with the contract's schema. */
export type CallOutput<N extends ApiRouteName> = z.infer<SuccessSchema<(typeof API)[N]>>;

/** The response schema the contract declares for route N and this status, if any. */
export function responseSchemaOf(name: ApiRouteName, status: number): z.ZodType | undefined {
  const responses = API[name].responses as Record<
    number,
    { content?: { 'application/json'?: { schema: z.ZodType } } }
  >;
  return responses[status]?.content?.['application/json']?.schema;
}

/**
 * The path and query of a call (`/v1/runs/run_1?limit=5`), path params encoded, or the
 * name of the path parameter that is missing.
 */
export function pathOf<N extends ApiRouteName>(
  name: N,
  input: CallInput<N> = {},
): { ok: true; path: string } | { ok: false; missing: string } {
  const params = (input.params ?? {}) as Record<string, string>;
  let missing: string | undefined;
  const path = API[name].path.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) {
      missing ??= key;
      return '';
    }
    return encodeURIComponent(value);
  });
  if (missing !== undefined) return { ok: false, missing };
  // Built by hand: contracts/ has no DOM or Node library, so no URLSearchParams.
  const qs = Object.entries(
    (input.query ?? {}) as Record<string, string | number | boolean | undefined>,
  )
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return { ok: true, path: `${path}${qs === '' ? '' : `?${qs}`}` };
}
