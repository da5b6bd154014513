import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCNotification,
  isJSONRPCRequest,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { tokenMatches, tokenOf } from './channel-token.ts';
import { appErrorToJsonRpc } from './channel-error.ts';
import { AppError } from '../../errors.ts';

export type TokenGateOptions = {
  inner: Transport;
  token: string;
  /** A request or notification without the right token was dropped. */
  onDenied: (method: string) => void;
  /** The worker sent something the host never asked for (a response: the host sends no requests). */
  onViolation: (detail: string) => void;
};

/**
 * The host's side of channel authentication, in front of the MCP server: a request without
 * the run's agent-session token in `params._meta` is answered with UNAUTHORIZED and never
 * reaches a handler, the SDK's own `initialize` and `ping` included; such a notification is
 * dropped (it could otherwise cancel a request in flight).
 */
export class TokenGateTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #inner: Transport;
  readonly #token: string;
  readonly #onDenied: (method: string) => void;
  readonly #onViolation: (detail: string) => void;

  constructor(options: TokenGateOptions) {
    this.#inner = options.inner;
    this.#token = options.token;
    this.#onDenied = options.onDenied;
    this.#onViolation = options.onViolation;
  }

  start(): Promise<void> {
    this.#inner.onmessage = (message) => {
      this.#receive(message);
    };
    this.#inner.onerror = (error) => this.onerror?.(error);
    this.#inner.onclose = () => this.onclose?.();
    return this.#inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.#inner.send(message);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #receive(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (tokenMatches(this.#token, tokenOf(message.params))) {
        this.onmessage?.(message);
        return;
      }
      this.#onDenied(message.method);
      const error = appErrorToJsonRpc(
        new AppError('UNAUTHORIZED', 'missing or wrong agent-session token'),
      );
      this.#inner
        .send({ jsonrpc: '2.0', id: message.id, error })
        .catch((e: unknown) => this.onerror?.(e instanceof Error ? e : new Error(String(e))));
      return;
    }
    if (isJSONRPCNotification(message)) {
      if (tokenMatches(this.#token, tokenOf(message.params))) this.onmessage?.(message);
      else this.#onDenied(message.method);
      return;
    }
    // Elicitation will make the host send requests; until then any response is unsolicited.
    this.#onViolation('unsolicited JSON-RPC response');
  }
}
