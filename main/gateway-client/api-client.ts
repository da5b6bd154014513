import type { z } from 'zod';
import { API, type ApiRouteName } from '../../contracts/api.ts';
import { errorBodySchema } from '../../contracts/errors.ts';
import { AppError } from '../errors.ts';
import { networkCause } from '../network-cause.ts';

type Route = (typeof API)[ApiRouteName];
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

/**
 * A typed client of the gateway, derived from the same definitions as the server
 * (contracts/api.ts). Responses are validated on arrival; errors come back as AppError
 * with the server's stable code.
 */
export class ApiClient {
  readonly #baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#token = token;
  }

  /** The gateway this client talks to (no trailing slash). */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  async call<N extends ApiRouteName>(name: N, input: CallInput<N> = {}): Promise<CallOutput<N>> {
    return (await this.send(name, input)).value;
  }

  /** `call`, also telling the status (e.g. 200 for an idempotent replay, 201 for a creation). */
  async send<N extends ApiRouteName>(
    name: N,
    input: CallInput<N> = {},
  ): Promise<{ status: number; value: CallOutput<N> }> {
    const route: Route = API[name];
    const res = await this.#fetch(this.url(name, input), {
      method: route.method.toUpperCase(),
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(input.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(input.headers as Record<string, string> | undefined),
      },
      ...(input.body === undefined ? {} : { body: JSON.stringify(input.body) }),
    });
    if (!res.ok) await this.#refusal(res);
    const payload: unknown = await res.json().catch(() => undefined);
    const responses = route.responses as Record<
      number,
      { content?: { 'application/json'?: { schema: z.ZodType } } }
    >;
    const schema = responses[res.status]?.content?.['application/json']?.schema;
    if (schema === undefined)
      throw new AppError('INTERNAL', `gateway answered an undeclared status ${res.status}`);
    return { status: res.status, value: schema.parse(payload) as CallOutput<N> };
  }

  /**
   * Opens a streaming route (`events`) and returns the response with its body unread; a
   * refusal throws like `call`.
   */
  async stream<N extends ApiRouteName>(
    name: N,
    input: CallInput<N> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const res = await this.#fetch(this.url(name, input), {
      method: API[name].method.toUpperCase(),
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(input.headers as Record<string, string> | undefined),
      },
      ...(signal === undefined ? {} : { signal }),
    });
    if (!res.ok) await this.#refusal(res);
    return res;
  }

  async #refusal(res: Response): Promise<never> {
    const payload: unknown = await res.json().catch(() => undefined);
    const parsed = errorBodySchema.safeParse(payload);
    if (parsed.success) {
      throw new AppError(
        parsed.data.error.code,
        parsed.data.error.message,
        parsed.data.error.details,
      );
    }
    throw new AppError('INTERNAL', `gateway answered ${res.status} without an error body`);
  }

  /** `fetch`, with "nothing answers here" as HOST_UNREACHABLE naming the URL and the cause. */
  async #fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (e) {
      throw new AppError(
        'HOST_UNREACHABLE',
        `cannot reach the host at ${this.#baseUrl} (${networkCause(e)})`,
        { url: this.#baseUrl },
      );
    }
  }

  /** The absolute URL of a call (path params filled in, query appended). */
  url<N extends ApiRouteName>(name: N, input: CallInput<N> = {}): string {
    const params = (input.params ?? {}) as Record<string, string>;
    const path = API[name].path.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined) throw new AppError('INVALID_INPUT', `missing path parameter ${key}`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(
      (input.query ?? {}) as Record<string, string | number | undefined>,
    )) {
      if (v !== undefined) query.set(k, String(v));
    }
    const qs = query.toString();
    return `${this.#baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  }
}
