import type { Context } from 'hono';
import type { ActorContext } from '../../actor-context.ts';
import type { GatewayEnv } from './gateway-env.ts';

/** Who acts in this request, for the services and the chain: the caller and its correlation id. */
export function requestActor(c: Context<GatewayEnv>, actor: string): ActorContext {
  return { actor, correlation_id: c.get('correlationId') };
}
