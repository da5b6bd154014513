import { createMiddleware } from 'hono/factory';
import type { Redactor } from '../../policy/redactor.ts';
import type { GatewayEnv } from './gateway-env.ts';

export const CORRELATION_HEADER = 'x-correlation-id';

/** A caller's id is kept only when it is short and plain, so it cannot inject into logs. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request a correlation id, echoed on the response and stamped on its chain
 * entries. A caller's own id is kept only when it is well-formed and nothing redaction would
 * hide: an id that is (or holds) a known secret or a credential would otherwise be written
 * to the chain, served by `GET /v1/chain` and echoed in every response; it is replaced.
 */
export function correlation(redactor: Pick<Redactor, 'redactString'>) {
  return createMiddleware<GatewayEnv>(async (c, next) => {
    const offered = c.req.header(CORRELATION_HEADER);
    const acceptable =
      offered !== undefined &&
      WELL_FORMED.test(offered) &&
      redactor.redactString(offered) === offered;
    const id = acceptable ? offered : crypto.randomUUID();
    c.set('correlationId', id);
    c.header(CORRELATION_HEADER, id);
    // Responses built later, also by the error handler, take headers set on the context.
    // Not `c.res.headers.set` after `next`: touching a built response's headers makes
    // @hono/node-server drop its fast path and stream the body (a quarter of the throughput).
    await next();
  });
}
