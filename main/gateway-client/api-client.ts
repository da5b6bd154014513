import { API, type ApiRouteName } from '../../contracts/api.ts';
import {
  pathOf,
  responseSchemaOf,
  type CallInput,
  type CallOutput,
} from '../../contracts/api-call.ts';
import { errorBodySchema } from '../../contracts/errors.ts';
import { AppError } from '../errors.ts';
import { networkCause } from '../network-cause.ts';

type Route = (typeof API)[ApiRouteName];

export type { CallInput, CallOutput };

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
    const schema = responseSchemaOf(name, res.status);
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
    const target = pathOf(name, input);
    if (!target.ok) throw new AppError('INVALID_INPUT', `missing path parameter ${target.missing}`);
    return `${this.#baseUrl}${target.path}`;
  }
}
