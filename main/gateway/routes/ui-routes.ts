import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { API } from '../../../contracts/api.ts';
import { UI_LOGIN_PATH, UI_SESSION_COOKIE, loginUrlOf } from '../../../contracts/ui.ts';
import { AppError } from '../../errors.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import type { UiSessions } from '../shared/ui-sessions.ts';
import { readRendererFile } from './renderer-files.ts';
import { LINK_USED_PAGE, NOT_BUILT_PAGE, SIGNED_IN_PAGE, SIGN_IN_PAGE } from './ui-pages.ts';

/** The routes that answer pages, not API operations (the OpenAPI document leaves them out). */
export const UI_PAGE_ROUTES: readonly string[] = [UI_LOGIN_PATH, '/*'];

/** Paths that are never UI pages, so an unknown one stays a JSON 404 (or 405). */
const NOT_PAGES = /^\/(v1|mcp)(\/|$)/;

/**
 * The UI's routes (issue 24): the session API (login links, CSRF token, sign-out), the
 * login exchange, and the built renderer. Every page and asset needs a session: without
 * one the gateway answers the sign-in page, which holds no data.
 */
export function registerUiRoutes(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
  sessions: UiSessions,
): void {
  app.openapi(createRoute(API.createLoginLink), async (c) => {
    await access.requireAdmin(c);
    // A stolen cookie must not be able to outlive its session by minting new ones.
    if (c.get('uiSession') !== undefined)
      throw new AppError('FORBIDDEN', 'a browser session cannot create login links');
    const { code, expiresAt } = sessions.issueLoginCode();
    // The Host header was checked against the gateway's own address (guardOrigin).
    const base = `http://${c.req.header('host') ?? ''}`;
    return c.json({ url: loginUrlOf(base, code), expires_at: expiresAt.toISOString() }, 201);
  });

  app.openapi(createRoute(API.getUiSession), async (c) => {
    const session = c.get('uiSession');
    if (session === undefined)
      throw new AppError('NOT_FOUND', 'no browser session: this request used a token');
    return c.json(
      {
        session_id: session.id,
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt.toISOString(),
        head_seq: await deps.chain.headSeq(),
      },
      200,
    );
  });

  app.openapi(createRoute(API.endUiSession), (c) => {
    const cookie = getCookie(c, UI_SESSION_COOKIE);
    const ended = c.get('uiSession') !== undefined && cookie !== undefined;
    if (ended) sessions.end(cookie);
    deleteCookie(c, UI_SESSION_COOKIE, { path: '/' });
    return c.json({ ended }, 200);
  });

  app.get(UI_LOGIN_PATH, (c) => {
    c.header('cache-control', 'no-store');
    const code = c.req.query('code');
    const redeemed = code === undefined ? undefined : sessions.redeem(code);
    if (redeemed === undefined) return c.html(LINK_USED_PAGE, 401);
    setCookie(c, UI_SESSION_COOKIE, redeemed.secret, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      expires: redeemed.session.expiresAt,
    });
    return c.html(SIGNED_IN_PAGE, 200);
  });

  // Last: everything else a browser GETs outside the API is a page of the single-page app.
  app.get('/*', async (c) => {
    if (NOT_PAGES.test(c.req.path)) return c.notFound();
    return servePage(c, deps.rendererDir ?? null, sessions);
  });
}

async function servePage(
  c: Context<GatewayEnv>,
  rendererDir: string | null,
  sessions: UiSessions,
): Promise<Response> {
  c.header('cache-control', 'no-store');
  const cookie = getCookie(c, UI_SESSION_COOKIE);
  if (cookie === undefined || sessions.lookup(cookie) === undefined)
    return c.html(SIGN_IN_PAGE, 401);
  if (rendererDir === null) return c.html(NOT_BUILT_PAGE, 503);
  const relative = c.req.path.slice(1);
  // Files (assets/…, favicon.svg) by name; any other path is a client-side route.
  if (/\.[a-z0-9]+$/.test(relative)) {
    const file = await readRendererFile(rendererDir, relative);
    if (file === undefined) return c.notFound();
    return c.body(file.body, 200, { 'content-type': file.contentType });
  }
  const index = await readRendererFile(rendererDir, 'index.html');
  if (index === undefined) return c.html(NOT_BUILT_PAGE, 503);
  return c.body(index.body, 200, { 'content-type': index.contentType });
}
