import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Default cap on one incoming message (one line), in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

/** Why the peer broke the framing; the owner decides what to do (the host kills the worker). */
export type ProtocolViolation =
  | { kind: 'not_json'; detail: string }
  | { kind: 'not_json_rpc'; detail: string }
  | { kind: 'too_large'; detail: string };

export type NdjsonTransportOptions = {
  /** Where the peer's messages arrive (the child's stdout, or the worker's own stdin). */
  input: Readable;
  /** Where messages to the peer go (the child's stdin, or the worker's own stdout). */
  output: Writable;
  maxMessageBytes?: number;
  /** Called once, for the first violation; the transport then stops reading and closes. */
  onViolation: (violation: ProtocolViolation) => void;
};

/**
 * MCP's stdio framing (one JSON-RPC message per line) over any pair of streams, used on both
 * ends of the agent channel. The SDK's `StdioServerTransport` frames the same way; this one
 * exists because the host needs what that one does not give: a hard per-message size cap,
 * violations reported as data instead of as error text, and write failures (EPIPE when the
 * worker dies) that reject the send instead of leaving an unhandled `error` event that would
 * take the host down.
 */
export class NdjsonTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #input: Readable;
  readonly #output: Writable;
  readonly #maxMessageBytes: number;
  readonly #onViolation: (violation: ProtocolViolation) => void;
  #chunks: Buffer[] = [];
  #pendingBytes = 0;
  #started = false;
  #closed = false;

  constructor(options: NdjsonTransportOptions) {
    this.#input = options.input;
    this.#output = options.output;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#onViolation = options.onViolation;
  }

  start(): Promise<void> {
    if (this.#started) return Promise.reject(new Error('NdjsonTransport already started'));
    this.#started = true;
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
    this.#input.on('error', this.#onStreamError);
    this.#output.on('error', this.#onStreamError);
    // A stream paused by its previous reader (the worker's hand-off, the host's pool) does
    // not flow again just because a 'data' listener was added.
    this.#input.resume();
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('channel closed'));
    const line = JSON.stringify(message) + '\n';
    return new Promise((resolve, reject) => {
      // The callback also fires (with an error) when the stream is already destroyed, so a
      // send to a dead peer settles instead of waiting for a 'drain' that never comes.
      this.#output.write(line, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.#input.pause();
    this.#chunks = [];
    this.#pendingBytes = 0;
    this.onclose?.();
    return Promise.resolve();
  }

  readonly #onData = (chunk: Buffer | string): void => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (!this.#closed) {
      const newline = data.indexOf(NEWLINE);
      const head = newline === -1 ? data : data.subarray(0, newline);
      // Checked before the line is complete, so a peer cannot make the host buffer an
      // endless line.
      if (this.#pendingBytes + head.length > this.#maxMessageBytes) {
        this.#violate({
          kind: 'too_large',
          detail: `a message exceeds ${this.#maxMessageBytes} bytes`,
        });
        return;
      }
      if (newline === -1) {
        if (head.length > 0) {
          this.#chunks.push(head);
          this.#pendingBytes += head.length;
        }
        return;
      }
      const line = Buffer.concat([...this.#chunks, head]).toString('utf8');
      this.#chunks = [];
      this.#pendingBytes = 0;
      data = data.subarray(newline + 1);
      this.#onLine(line);
    }
  };

  #onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      this.#violate({ kind: 'not_json', detail: e instanceof Error ? e.message : String(e) });
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.#violate({ kind: 'not_json_rpc', detail: parsed.error.message.slice(0, 500) });
      return;
    }
    this.onmessage?.(parsed.data);
  }

  readonly #onEnd = (): void => {
    void this.close();
  };

  readonly #onStreamError = (error: Error): void => {
    // A pipe error means the peer is gone; report it and close rather than throw. The
    // listeners stay after close so a late EPIPE is swallowed here, not thrown.
    if (this.#closed) return;
    this.onerror?.(error);
    void this.close();
  };

  #violate(violation: ProtocolViolation): void {
    this.#onViolation(violation);
    void this.close();
  }
}
