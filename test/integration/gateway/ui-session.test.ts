import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_CSRF_HEADER, UI_SESSION_COOKIE } from '../../../contracts/ui.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { errorOf, startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { rawGet } from './helpers/raw-get.ts';
import { openSse } from './helpers/sse-client.ts';

/**
 * The UI's browser session (issue 24), attacked over real HTTP on 127.0.0.1: nothing
 * without a session, a login link that works once, CSRF on every state change, requests
 * caused by another loopback port refused, foreign Host refused, CSP on every page.
 */

let gw: GatewayTestHost;
let rendererDir: string;

beforeAll(async () => {
  rendererDir = await makeTempDir('ccos-renderer-');
  await mkdir(path.join(rendererDir, 'assets'));
  await writeFile(
    path.join(rendererDir, 'index.html'),
    '<!doctype html><title>CCOS</title><script type="module" src="/assets/app.js"></script>',
  );
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("ui")');
  await writeFile(path.join(rendererDir, 'secret.txt'), 'not a renderer file');
  gw = await startGatewayHost({ rendererDir });
});

afterAll(async () => {
  await gw.stop();
  await removeTempDir(rendererDir);
});

async function loginLink(): Promise<string> {
  const res = await gw.request('POST', '/v1/ui/login-links');
  expect(res.status).toBe(201);
  return (res.body as { url: string }).url;
}

/** Opens a login link as a browser would and returns the cookie it set. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(await loginLink());
  expect(res.status).toBe(200);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${UI_SESSION_COOKIE}=`));
  if (setCookie === undefined) throw new Error('no session cookie');
  const cookie = setCookie.split(';')[0] ?? '';
  const info = await gw.request('GET', '/v1/ui/session', { token: null, headers: { cookie } });
  expect(info.status).toBe(200);
  return { cookie, csrf: (info.body as { csrf_token: string }).csrf_token };
}

describe('without a session', () => {
  it('every page is the sign-in page and holds no data, every API route a 401', async () => {
    for (const page of ['/', '/runs', '/approvals', '/assets/app.js']) {
      const res = await gw.request('GET', page, { token: null });
      expect(res.status, page).toBe(401);
      expect(res.text).toContain('ccos open');
      expect(res.text).not.toContain('assets/app.js');
    }
    const api = await gw.request('GET', '/v1/runs', { token: null });
    expect(api.status).toBe(401);
    const stream = await gw.request('GET', '/v1/events', { token: null });
    expect(stream.status).toBe(401);
  });

  it('an unknown session cookie is refused and audited', async () => {
    const res = await gw.request('GET', '/v1/runs', {
      token: null,
      headers: { cookie: `${UI_SESSION_COOKIE}=forged` },
    });
    expect(res.status).toBe(401);
    const denied = await gw.chain('auth.denied');
    expect(denied.some((e) => e.data.reason === 'unknown_session')).toBe(true);
  });
});

describe('the one-time login link', () => {
  it('sets an HttpOnly SameSite=Strict cookie once, and is refused the second time', async () => {
    const url = await loginLink();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?code=[A-Za-z0-9_-]{40,}$/);
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const cookie = first.headers.getSetCookie().join('\n');
    expect(cookie).toMatch(new RegExp(`^${UI_SESSION_COOKIE}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');

    const again = await fetch(url);
    expect(again.status).toBe(401);
    expect(again.headers.getSetCookie()).toEqual([]);
    expect(await again.text()).toContain('already used');
  });

  it('a made-up code gets no session', async () => {
    const res = await fetch(`${gw.url}/login?code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('only a token, not a browser session, mints login links', async () => {
    const { cookie, csrf } = await signIn();
    const res = await gw.request('POST', '/v1/ui/login-links', {
      token: null,
      headers: { cookie, [UI_CSRF_HEADER]: csrf },
    });
    expect(res.status).toBe(403);
    const anonymous = await gw.request('POST', '/v1/ui/login-links', { token: null });
    expect(anonymous.status).toBe(401);
  });
});

describe('with a session', () => {
  it('serves the renderer and the API; the admin token never appears in a response', async () => {
    const { cookie } = await signIn();
    const page = await gw.request('GET', '/runs/run_x', { token: null, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('/assets/app.js');
    const script = await gw.request('GET', '/assets/app.js', { token: null, headers: { cookie } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const runs = await gw.request('GET', '/v1/runs', { token: null, headers: { cookie } });
    expect(runs.status).toBe(200);
    const info = await gw.request('GET', '/v1/ui/session', { token: null, headers: { cookie } });
    expect(info.text).not.toContain(gw.adminToken);
    expect(JSON.stringify(Object.fromEntries(page.headers))).not.toContain(gw.adminToken);
  });

  it('every page carries a CSP that allows no inline script', async () => {
    const { cookie } = await signIn();
    for (const p of ['/', '/login']) {
      const res = await gw.request('GET', p, { token: null, headers: { cookie } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('a state change without the CSRF token, or with a wrong one, is refused and audited', async () => {
    const { cookie, csrf } = await signIn();
    const body = { goal: 'csrf probe' };
    const none = await gw.request('POST', '/v1/runs', {
      token: null,
      json: body,
      headers: { cookie },
    });
    expect(none.status).toBe(403);
    expect(errorOf(none).message).toContain(UI_CSRF_HEADER);
    const wrong = await gw.request('POST', '/v1/runs', {
      token: null,
      json: body,
      headers: { cookie, [UI_CSRF_HEADER]: `${csrf.slice(0, -1)}x` },
    });
    expect(wrong.status).toBe(403);
    const runs = await gw.request('GET', '/v1/runs');
    expect((runs.body as { runs: { goal: string }[] }).runs.map((r) => r.goal)).not.toContain(
      'csrf probe',
    );
    const denied = await gw.chain('auth.denied');
    expect(denied.filter((e) => e.data.reason === 'csrf_mismatch').length).toBeGreaterThanOrEqual(
      2,
    );

    const ok = await gw.request('POST', '/v1/runs', {
      token: null,
      json: body,
      headers: { cookie, [UI_CSRF_HEADER]: csrf },
    });
    expect(ok.status).toBe(201);
  });

  it('a form POST from a page on another loopback port is refused, cookie or not', async () => {
    const { cookie, csrf } = await signIn();
    // What a browser sends for <form method=post action=http://127.0.0.1:PORT/v1/runs> on
    // a page of http://127.0.0.1:OTHER: the cookie (SameSite ignores ports) and its Origin.
    const otherOrigin = `http://127.0.0.1:${gw.started.gateway.port + 1}`;
    const forms: Record<string, string>[] = [
      { cookie, origin: otherOrigin, 'content-type': 'application/x-www-form-urlencoded' },
      // Even a page that somehow learnt the CSRF token is refused by its origin.
      { cookie, origin: otherOrigin, [UI_CSRF_HEADER]: csrf, 'content-type': 'application/json' },
    ];
    for (const headers of forms) {
      const res = await gw.request('POST', '/v1/runs', {
        token: null,
        raw: headers['content-type']?.includes('json') === true ? '{"goal":"x"}' : 'goal=x',
        headers,
      });
      expect(res.status).toBe(403);
    }
  });

  it('a request another site caused (Sec-Fetch-Site) reads nothing, even a GET', async () => {
    const { cookie } = await signIn();
    for (const site of ['same-site', 'cross-site']) {
      const runs = await gw.request('GET', '/v1/runs', {
        token: null,
        headers: { cookie, 'sec-fetch-site': site },
      });
      expect(runs.status).toBe(403);
      const events = await gw.request('GET', '/v1/events', {
        token: null,
        headers: { cookie, 'sec-fetch-site': site },
      });
      expect(events.status).toBe(403);
    }
    const denied = await gw.chain('auth.denied');
    expect(denied.some((e) => e.data.reason === 'cross_site')).toBe(true);
  });

  it('a foreign Host header is refused for pages and the login link alike', async () => {
    const { cookie } = await signIn();
    const url = new URL(await loginLink());
    for (const p of ['/', `/login${url.search}`, '/v1/runs']) {
      const res = await rawGet(gw.url, p, {
        cookie,
        host: `evil.example:${gw.started.gateway.port}`,
      });
      expect(res.status, p).toBe(403);
    }
    // The link was not spent by the refused request.
    expect((await fetch(url)).status).toBe(200);
  });

  it('only renderer files are served: no traversal, no other types', async () => {
    const { cookie } = await signIn();
    for (const p of [
      '/secret.txt',
      '/assets/../secret.txt',
      '/assets/%2e%2e/secret.txt',
      '/..%2fpackage.json',
      '/assets/missing.js',
    ]) {
      const res = await gw.request('GET', p, { token: null, headers: { cookie } });
      expect(res.status, p).toBe(404);
      expect(res.text).not.toContain('not a renderer file');
    }
  });

  it('signing out ends the session at once', async () => {
    const { cookie, csrf } = await signIn();
    const out = await gw.request('POST', '/v1/ui/logout', {
      token: null,
      headers: { cookie, [UI_CSRF_HEADER]: csrf },
    });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ ended: true });
    const after = await gw.request('GET', '/v1/runs', { token: null, headers: { cookie } });
    expect(after.status).toBe(401);
    const page = await gw.request('GET', '/', { token: null, headers: { cookie } });
    expect(page.status).toBe(401);
  });

  it('a signed-in browser follows the event stream until it signs out', async () => {
    const { cookie, csrf } = await signIn();
    const head = (await gw.chain()).at(-1)?.seq ?? 0;
    const stream = await openSse(`${gw.url}/v1/events`, { cookie, lastEventId: head });
    try {
      expect(stream.status).toBe(200);
      // A browser session is not a token: its stream must not end as "token revoked".
      expect((await gw.request('POST', '/v1/runs', { json: { goal: 'seen live' } })).status).toBe(
        201,
      );
      expect((await stream.next()).event).toBe('run.created');
      const out = await gw.request('POST', '/v1/ui/logout', {
        token: null,
        headers: { cookie, [UI_CSRF_HEADER]: csrf },
      });
      expect(out.status).toBe(200);
      expect(await stream.ended()).toBe('ended');
      expect(stream.comments).toContain('closed: signed out');
    } finally {
      stream.close();
    }
  });

  it('a token request has no browser session to read', async () => {
    const res = await gw.request('GET', '/v1/ui/session');
    expect(res.status).toBe(404);
  });
});
