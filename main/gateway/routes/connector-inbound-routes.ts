import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { InboundConnectors } from '../../connectors/connector-inbound-wiring.ts';
import { AppError } from '../../errors.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/** The inbound path: it carries its connector's own proof, so the token check passes it by. */
const INBOUND_PATH = /^\/v1\/connectors\/[^/]+\/inbound$/;

/** Whether a path is a connector's inbound endpoint (authenticated by its adapter, not a token). */
export function isConnectorInboundPath(path: string): boolean {
  return INBOUND_PATH.test(path);
}

/**
 * Connectors, inbound half (issue 23): the webhook inbound endpoint, the local chat's, and the
 * admin routes that configure, show, test and remove a connector's adapter.
 */
export function registerConnectorInboundRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  const connectors = (): InboundConnectors => {
    if (deps.inboundConnectors === undefined)
      throw new AppError('NOT_FOUND', 'this host has no inbound connectors');
    return deps.inboundConnectors;
  };

  app.openapi(createRoute(API.connectorInbound), async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const result = await connectors().inbound.receive(
      c.req.valid('param').id,
      { header: (name) => c.req.header(name), body, received_at: new Date() },
      c.get('correlationId'),
    );
    return c.json(result, 202);
  });

  app.openapi(createRoute(API.postChatMessage), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await connectors().inbound.receiveFromPerson(
      c.req.valid('query').connector,
      c.req.valid('json'),
      requestActor(c, principal.actor),
    );
    return c.json(result, 202);
  });

  // --- ui-chat (issue 24) ---
  // Admin (the UI's session) only: a connector's or an agent's token must not read the
  // person's own words back out of the quarantine.
  app.openapi(createRoute(API.getChatConversation), async (c) => {
    const principal = await access.requireAdmin(c);
    const conversation = await connectors().conversations.read(
      c.req.valid('param').channel,
      c.req.valid('query'),
      requestActor(c, principal.actor),
    );
    return c.json(conversation, 200);
  });

  app.openapi(createRoute(API.listConnectorAdapters), async (c) => {
    await access.requireAdmin(c);
    return c.json({ adapters: await connectors().configs.list() }, 200);
  });

  app.openapi(createRoute(API.getConnectorAdapter), async (c) => {
    await access.requireAdmin(c);
    const id = c.req.valid('param').id;
    const config = await connectors().configs.get(id);
    return c.json(
      {
        config,
        health: await connectors().health(config),
        connections: await connectors().connections.list(id),
      },
      200,
    );
  });

  app.openapi(createRoute(API.putConnectorAdapter), async (c) => {
    const principal = await access.requireAdmin(c);
    const result = await connectors().configure(
      c.req.valid('param').id,
      c.req.valid('json'),
      requestActor(c, principal.actor),
      { rotate: c.req.valid('query').rotate === 'true' },
    );
    return c.json(result, 200);
  });

  app.openapi(createRoute(API.deleteConnectorAdapter), async (c) => {
    const principal = await access.requireAdmin(c);
    await connectors().configs.remove(c.req.valid('param').id, requestActor(c, principal.actor));
    return c.json({ removed: true as const }, 200);
  });

  app.openapi(createRoute(API.testConnectorAdapter), async (c) => {
    await access.requireAdmin(c);
    return c.json(await connectors().selfTest(c.req.valid('param').id), 200);
  });
}
