import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { startUiHost, type UiHost } from './helpers/ui-host.ts';

/**
 * The UI's security in a real Chromium (issue 24): no page or data without a session, the
 * login link works once, CSP stops an injected inline script, and a page served from another
 * loopback port — which the browser sends the session cookie to, SameSite or not — can
 * neither read the API or the event stream nor change anything with a form POST.
 */

const skip = browserTestsSkipReason();

describe.skipIf(skip !== undefined)('UI security in Chromium', () => {
  let ui: UiHost;
  let attacker: Server;
  let attackerUrl: string;

  beforeAll(async () => {
    ui = await startUiHost({ transcript: { entries: [] }, installEchoNotes: false });
    // The attacker's page: another loopback port, same browser. It reports what it could do.
    attacker = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(attackerPage(ui.url));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => attacker.close(resolve));
    await ui.close();
  });

  it('without a session no page shows data; the login link signs in once', async () => {
    const context = await ui.browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${ui.url}/runs`);
    expect(res?.status()).toBe(401);
    await expect(page.locator('body').textContent()).resolves.toContain('ccos open');
    expect(await page.locator('#root').count()).toBe(0);

    const link = ui.started.loginLink().url;
    await page.goto(link);
    await page.waitForURL(`${ui.url}/`);
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    // The live stream connects with the session cookie alone.
    await page.getByTestId('live-status').filter({ hasText: 'live' }).waitFor();
    // The cookie is HttpOnly: the page's own script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    const adminToken = (await readFile(ui.started.adminTokenFile, 'utf8')).trim();
    const storage = await page.evaluate(
      'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })',
    );
    expect(storage).not.toContain(adminToken);

    const other = await ui.browser.newContext();
    const second = await other.newPage();
    const again = await second.goto(link);
    expect(again?.status()).toBe(401);
    await expect(second.locator('body').textContent()).resolves.toContain('already used');
    await other.close();
    await context.close();
  });

  it('CSP blocks an inline script injected into a signed-in page', async () => {
    const { context, page } = await ui.signIn();
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (d: string) => violations.push(d));
    // Runs in the page (a string: the test project has no DOM types).
    const ran = await page.evaluate(`(async () => {
      const seen = new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => {
          window.reportViolation(e.violatedDirective).then(resolve);
        });
      });
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      const holder = document.createElement('div');
      holder.innerHTML = '<img src="x" onerror="window.__injected = true">';
      document.body.append(holder);
      await seen;
      return window.__injected === true;
    })()`);
    expect(ran).toBe(false);
    expect(violations.some((d) => d.startsWith('script-src'))).toBe(true);
    await context.close();
  });

  it('a page on another loopback port cannot read the API or the stream, nor POST a form', async () => {
    const { context, page } = await ui.signIn();
    const before = await ui.request('GET', '/v1/runs');
    const attackerPageTab = await context.newPage();
    await attackerPageTab.goto(attackerUrl);
    const report = await attackerPageTab.evaluate<Record<string, string>>('window.attack()');
    expect(report.fetch).toMatch(/^blocked/);
    // Refused by the gateway (Sec-Fetch-Site) and unreadable anyway (CORP same-origin).
    expect(report.fetchNoCors).toMatch(/^blocked/);
    expect(report.events).toBe('error');

    // The cross-port form POST: it reaches the gateway with the cookie and is refused.
    const navigation = attackerPageTab.waitForEvent('framenavigated');
    await attackerPageTab.locator('#post').click();
    await navigation;
    await attackerPageTab.waitForLoadState();
    await expect(attackerPageTab.locator('body').textContent()).resolves.toContain('FORBIDDEN');
    const after = await ui.request('GET', '/v1/runs');
    expect((after.body as { runs: unknown[] }).runs.length).toBe(
      (before.body as { runs: unknown[] }).runs.length,
    );
    const denied = await ui.started.chain.query({ event_type: 'auth.denied', limit: 1000 });
    const reasons = denied.entries.map((e) => e.data.reason);
    expect(reasons).toContain('foreign_origin');
    expect(reasons).toContain('cross_site');
    // The UI's own tab still works.
    await page.reload();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await context.close();
  });
});

/** A page that tries every way a web page has to reach the gateway, and reports each. */
function attackerPage(gateway: string): string {
  return `<!doctype html><title>elsewhere</title>
<form id="form" method="post" action="${gateway}/v1/runs" enctype="text/plain">
<input name='{"goal":"pwned","x":"' value='"}'><button id="post" type="submit">post</button></form>
<script>
window.attack = async () => {
  const report = {};
  try {
    const r = await fetch('${gateway}/v1/runs', { credentials: 'include' });
    report.fetch = 'read ' + r.status + ' ' + (await r.text()).slice(0, 40);
  } catch (e) { report.fetch = 'blocked ' + e.name; }
  try {
    const r = await fetch('${gateway}/v1/runs', { credentials: 'include', mode: 'no-cors' });
    report.fetchNoCors = r.type;
  } catch (e) { report.fetchNoCors = 'blocked ' + e.name; }
  report.events = await new Promise((resolve) => {
    const es = new EventSource('${gateway}/v1/events', { withCredentials: true });
    es.onmessage = () => { es.close(); resolve('message'); };
    es.onerror = () => { es.close(); resolve('error'); };
  });
  return report;
};
</script>`;
}
