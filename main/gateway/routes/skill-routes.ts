import { autofillGrants } from '../../skills/manifest/autofill-grants.ts';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { API } from '../../../contracts/api.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { requestActor } from '../shared/request-actor.ts';

/** Skills (install, list, enable/disable, unload) and secret names. Changes are admin-only. */
export function registerSkillRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): void {
  app.openapi(createRoute(API.listSkills), async (c) => {
    await access.requireScope(c, 'runs:read');
    return c.json({ skills: deps.skills.list(), tools: deps.skills.tools() }, 200);
  });

  app.openapi(createRoute(API.installSkill), async (c) => {
    const principal = await access.requireAdmin(c);
    const body = c.req.valid('json');
    const actor = requestActor(c, principal.actor);
    const options = {
      force: body.force ?? false,
      ...(body.consent_digest === undefined ? {} : { consentDigest: body.consent_digest }),
    };
    // The schema guarantees exactly one of path and url.
    const result =
      body.url !== undefined
        ? await deps.skills.installFromUrl(body.url, actor, options)
        : await deps.skills.install(body.path ?? '', actor, options);
    return c.json(result, 201);
  });

  app.openapi(createRoute(API.inspectSkill), async (c) => {
    const principal = await access.requireAdmin(c);
    const body = c.req.valid('json');
    const options = { force: body.force ?? false };
    const inspected = await deps.skills.inspect(
      body.url !== undefined ? { url: body.url } : (body.path ?? ''),
      requestActor(c, principal.actor),
      options,
    );
    const m = inspected.manifest;
    return c.json(
      {
        skill: {
          skill_id: m.skill_id,
          version: m.version,
          name: m.name,
          description: m.description,
          operations: m.operations,
          permissions: m.permissions,
        },
        digest: inspected.digest,
        autofill: autofillGrants(m),
      },
      200,
    );
  });

  app.openapi(createRoute(API.getSkill), async (c) => {
    await access.requireScope(c, 'runs:read');
    return c.json(deps.skills.get(c.req.valid('param').id), 200);
  });

  app.openapi(createRoute(API.unloadSkill), async (c) => {
    const principal = await access.requireAdmin(c);
    const { id } = c.req.valid('param');
    await deps.skills.unload(id, requestActor(c, principal.actor));
    return c.json({ skill_id: id }, 200);
  });

  app.openapi(createRoute(API.startSkillOnboarding), async (c) => {
    const principal = await access.requireAdmin(c);
    const { id } = c.req.valid('param');
    const onboarding = await deps.onboarding.start(id, requestActor(c, principal.actor));
    return c.json({ skill_id: id, onboarding }, 200);
  });

  app.openapi(createRoute(API.pollSkillOnboarding), async (c) => {
    await access.requireAdmin(c);
    const { id } = c.req.valid('param');
    return c.json({ skill_id: id, onboarding: await deps.onboarding.poll(id) }, 200);
  });

  for (const [route, enabled] of [
    [API.enableSkill, true],
    [API.disableSkill, false],
  ] as const) {
    app.openapi(createRoute(route), async (c) => {
      const principal = await access.requireAdmin(c);
      const skill = await deps.skills.setEnabled(
        c.req.valid('param').id,
        enabled,
        requestActor(c, principal.actor),
      );
      return c.json(skill, 200);
    });
  }

  app.openapi(createRoute(API.listSecrets), async (c) => {
    await access.requireAdmin(c);
    return c.json({ names: await deps.secrets.names() }, 200);
  });

  app.openapi(createRoute(API.putSecret), async (c) => {
    const principal = await access.requireAdmin(c);
    const { name } = c.req.valid('param');
    await deps.secrets.set(name, c.req.valid('json').value, requestActor(c, principal.actor));
    return c.json({ name }, 200);
  });

  app.openapi(createRoute(API.deleteSecret), async (c) => {
    const principal = await access.requireAdmin(c);
    const { name } = c.req.valid('param');
    await deps.secrets.delete(name, requestActor(c, principal.actor));
    return c.json({ name }, 200);
  });
}
