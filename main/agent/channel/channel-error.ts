import { ErrorCode as JsonRpcErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { isAppError, type AppError } from '../../errors.ts';

/**
 * JSON-RPC error code for every AppError other than INVALID_INPUT, from the range JSON-RPC
 * leaves to servers (-32000..-32099) and clear of the codes MCP uses (-32000, -32001, -32042).
 * The worker matches on `data.code`, the stable code, never on this number or the message.
 */
export const APP_ERROR_JSON_RPC_CODE = -32050;

/** The `error` member of a JSON-RPC response for an AppError. */
export type ChannelErrorBody = {
  code: number;
  message: string;
  data: { code: ErrorCode; details?: unknown };
};

/**
 * Thrown from a request handler: the SDK copies `code`, `message` and `data` into the error
 * response as they are (an McpError would prefix its message with "MCP error <n>:").
 */
export class ChannelReplyError extends Error {
  readonly code: number;
  readonly data: ChannelErrorBody['data'];

  constructor(body: ChannelErrorBody) {
    super(body.message);
    this.name = 'ChannelReplyError';
    this.code = body.code;
    this.data = body.data;
  }
}

/** An AppError as a JSON-RPC error: `data.code` carries the stable code across the process boundary. */
export function appErrorToJsonRpc(e: AppError): ChannelErrorBody {
  const code =
    e.code === 'INVALID_INPUT' ? JsonRpcErrorCode.InvalidParams : APP_ERROR_JSON_RPC_CODE;
  const data = e.details === undefined ? { code: e.code } : { code: e.code, details: e.details };
  return { code, message: e.message, data };
}

/**
 * What a handler threw, as the error the SDK sends. Anything that is not an AppError is a
 * host bug: the worker gets INTERNAL without detail (the message may hold host internals) and
 * the error goes to `onUnexpected` for the log.
 */
export function toChannelError(e: unknown, onUnexpected: (e: unknown) => void): ChannelReplyError {
  if (isAppError(e)) return new ChannelReplyError(appErrorToJsonRpc(e));
  onUnexpected(e);
  return new ChannelReplyError({
    code: JsonRpcErrorCode.InternalError,
    message: 'internal error',
    data: { code: 'INTERNAL' },
  });
}
