import { API, type ApiRouteName } from '../../../contracts/api.ts';
import {
  pathOf,
  responseSchemaOf,
  type CallInput,
  type CallOutput,
} from '../../../contracts/api-call.ts';
import { errorBodySchema } from '../../../contracts/errors.ts';
import { UI_CSRF_HEADER } from '../../../contracts/ui.ts';

/** An error the gateway answered (its stable code and message), or a network failure. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(code: string, message: string, status: number, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

const SAFE_METHODS = new Set(['get', 'head']);

/**
 * The renderer's one way to the host: the routes of contracts/api.ts, with their types, over
 * same-origin fetch. The session cookie goes by itself (HttpOnly: this code never sees it);
 * every state-changing request carries the CSRF token read at start-up. Responses are parsed
 * with the contract's schemas, so a page only ever renders what the contract says.
 */
export class UiApiClient {
  #csrfToken: string;

  constructor(csrfToken = '') {
    this.#csrfToken = csrfToken;
  }

  set csrfToken(token: string) {
    this.#csrfToken = token;
  }

  async call<N extends ApiRouteName>(name: N, input: CallInput<N> = {}): Promise<CallOutput<N>> {
    const route = API[name];
    const res = await this.#fetch(name, input, {
      method: route.method.toUpperCase(),
      headers: {
        ...(input.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(SAFE_METHODS.has(route.method) ? {} : { [UI_CSRF_HEADER]: this.#csrfToken }),
        ...(input.headers as Record<string, string> | undefined),
      },
      ...(input.body === undefined ? {} : { body: JSON.stringify(input.body) }),
    });
    const payload: unknown = await res.json().catch(() => undefined);
    const schema = responseSchemaOf(name, res.status);
    if (schema === undefined)
      throw new ApiError('INTERNAL', `the host answered an undeclared ${res.status}`, res.status);
    return schema.parse(payload) as CallOutput<N>;
  }

  /** Opens a streaming route (`events`); the body is left for the caller to read. */
  async stream<N extends ApiRouteName>(
    name: N,
    input: CallInput<N>,
    signal: AbortSignal,
  ): Promise<Response> {
    return this.#fetch(name, input, {
      method: 'GET',
      headers: { ...(input.headers as Record<string, string> | undefined) },
      signal,
    });
  }

  async #fetch<N extends ApiRouteName>(
    name: N,
    input: CallInput<N>,
    init: RequestInit,
  ): Promise<Response> {
    const target = pathOf(name, input);
    if (!target.ok) throw new ApiError('INVALID_INPUT', `missing ${target.missing}`, 0);
    let res: Response;
    try {
      res = await fetch(target.path, { ...init, credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError('HOST_UNREACHABLE', 'cannot reach the host: is it still running?', 0);
    }
    if (res.ok) return res;
    const body: unknown = await res.json().catch(() => undefined);
    const parsed = errorBodySchema.safeParse(body);
    if (parsed.success) {
      const { code, message, details } = parsed.data.error;
      throw new ApiError(code, message, res.status, details);
    }
    throw new ApiError('INTERNAL', `the host answered ${res.status}`, res.status);
  }
}
