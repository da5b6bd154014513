import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { ErrorBody, ErrorCode } from '../../../contracts/errors.ts';
import { AppError, isAppError } from '../../errors.ts';
import { statusOf } from './error-status.ts';
import type { GatewayEnv } from './gateway-env.ts';

/** Statuses hono's own middleware raises, as stable codes. */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * The gateway's one error handler: every failure becomes `{error:{code,message,details?}}`.
 * Unknown errors are a 500 that says nothing about the inside, and a log line that does.
 */
export function createErrorHandler(logger: Logger) {
  return (err: unknown, c: Context<GatewayEnv>): Response => {
    const appError = toAppError(err);
    if (appError === undefined) {
      logger.error({ err, correlation_id: c.get('correlationId') }, 'unhandled error in a request');
      return c.json<ErrorBody>({ error: { code: 'INTERNAL', message: 'internal error' } }, 500);
    }
    const body: ErrorBody = {
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details === undefined ? {} : { details: appError.details }),
      },
    };
    return c.json(body, statusOf(appError.code));
  };
}

function toAppError(err: unknown): AppError | undefined {
  if (isAppError(err)) return err;
  if (err instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[err.status];
    if (code === undefined) return undefined;
    const message =
      err.status === 400 && /json/i.test(err.message)
        ? 'malformed JSON in request body'
        : err.status === 415
          ? 'unsupported media type: send the body as application/json'
          : err.status === 413
            ? 'request body too large'
            : err.message || code.toLowerCase();
    return new AppError(code, message);
  }
  if (err instanceof SyntaxError)
    return new AppError('INVALID_INPUT', 'malformed JSON in request body');
  return undefined;
}
