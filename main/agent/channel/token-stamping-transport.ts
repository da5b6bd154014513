import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { TOKEN_META_KEY } from './channel-token.ts';

/**
 * The worker's side of channel authentication: puts the agent-session token into
 * `params._meta` of every request and notification it sends, including the SDK's own
 * `initialize`, so the host can check every message without exceptions.
 */
export class TokenStampingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #inner: Transport;
  readonly #token: string;

  constructor(inner: Transport, token: string) {
    this.#inner = inner;
    this.#token = token;
  }

  start(): Promise<void> {
    this.#inner.onmessage = (message) => this.onmessage?.(message);
    this.#inner.onerror = (error) => this.onerror?.(error);
    this.#inner.onclose = () => this.onclose?.();
    return this.#inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!('method' in message)) return this.#inner.send(message);
    const params: Record<string, unknown> = message.params ?? {};
    const meta = (params._meta ?? {}) as Record<string, unknown>;
    return this.#inner.send({
      ...message,
      params: { ...params, _meta: { ...meta, [TOKEN_META_KEY]: this.#token } },
    });
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
