import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import { AppError } from '../../errors.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';

/** What Settings shows of the host, the LLM connection test and the policy packs. Admin only. */
export function registerHostRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.getHostInfo), async (c) => {
    await access.requireAdmin(c);
    if (deps.host === undefined)
      throw new AppError('NOT_FOUND', 'this gateway has no host settings');
    return c.json(deps.host.info(), 200);
  });

  // Packs say which calls are gated and how: an agent's connector has no need to read them.
  app.openapi(createRoute(API.listPolicyPacks), async (c) => {
    await access.requireAdmin(c);
    return c.json({ packs: deps.policies.list() }, 200);
  });

  app.openapi(createRoute(API.getPolicyPack), async (c) => {
    await access.requireAdmin(c);
    return c.json(deps.policies.describe(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.testLlmConnection), async (c) => {
    await access.requireAdmin(c);
    const result = await deps.host?.testLlm();
    if (result === undefined || result === null)
      throw new AppError(
        'CONFLICT',
        'no LLM provider is configured: start the host with --llm-settings (or CCOS_LLM_SETTINGS)',
      );
    return c.json(result, 200);
  });
}
