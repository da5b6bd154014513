import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../contracts/approvals.ts';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { InboundResult } from '../../contracts/connector-adapter.ts';
import { signInbound } from '../../main/connectors/inbound-auth.ts';
import { doneEntry } from '../integration/autonomy/helpers/autonomy-host.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { checkPage, expectAccessible } from './helpers/page-checks.ts';
import { startUiHost, type UiHost } from './helpers/ui-host.ts';

const skip = browserTestsSkipReason();
const UI_TIMEOUT_MS = 60_000;
const CHANNEL = 'support-7c2';

/**
 * Issue 24's Connectors page in Chromium against a real headless host: the person adds a
 * webhook connector and copies its secret (shown once); a sender signs a real inbound message
 * with it (real HMAC over real HTTP), which opens a channel waiting for approval; the page
 * shows it live, the person approves it in the inbox and sees the channel become active;
 * self-test and removal (two steps, focus on Cancel) close the tour.
 */
describe.skipIf(skip !== undefined)('the Connectors page', () => {
  let ui: UiHost;
  let context: BrowserContext;
  let page: Page;
  let secret = '';

  beforeAll(async () => {
    ui = await startUiHost({ transcript: { entries: [doneEntry('Answered.')] } });
    ({ context, page } = await ui.signIn());
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.url });
  });

  afterAll(async () => {
    await ui.close();
  });

  const card = (id: string) => page.locator(`[data-connector-id="${id}"]`);
  const chainOf = async (type: string): Promise<ChainEntry[]> => {
    const res = await ui.request('GET', `/v1/chain?event_type=${type}&limit=100`);
    expect(res.status, res.text).toBe(200);
    return (res.body as { entries: ChainEntry[] }).entries;
  };
  const sendSigned = async (key: string, id: string): Promise<Response> => {
    const body = JSON.stringify({
      id,
      channel_id: CHANNEL,
      chat_type: 'direct',
      sender_id: 'alice',
      text: 'Where is my parcel?',
    });
    const ts = String(Date.now());
    return fetch(`${ui.url}/v1/connectors/hook/inbound`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-ccos-timestamp': ts,
        'x-ccos-signature': signInbound(key, ts, Buffer.from(body)),
      },
      body,
    });
  };

  it('says what to do when there is none, and is in the navigation', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Connectors' })
      .click();
    await page.getByRole('heading', { name: 'Connectors', level: 1 }).waitFor();
    await page.getByText('No connectors yet').waitFor();
    await checkPage(ui, page, 'connectors-empty');
  });

  it('refuses a bad form before sending, naming each field', async () => {
    await page.getByRole('button', { name: 'Add a connector' }).click();
    const form = page.getByRole('form', { name: 'New connector' });
    await form.getByLabel('Id').fill('Not An Id');
    await form.getByRole('button', { name: 'Add the connector' }).click();
    const problems = form.getByRole('alert', { name: 'Problems' });
    await problems.getByText(/^id: lowercase letters/).waitFor();
    await problems.getByText(/^template\.goal: /).waitFor();
    expect((await ui.request('GET', '/v1/connector-adapters')).body).toEqual({ adapters: [] });
  });

  it('adds a webhook connector and shows its secret once, with a copy button', async () => {
    const form = page.getByRole('form', { name: 'New connector' });
    await form.getByLabel('Id').fill('hook');
    await form.getByLabel('Goal of the run a message starts').fill('Answer the customer');
    await form.getByLabel('Mention names').fill('ccos, helper');
    await form.getByRole('button', { name: 'Add the connector' }).click();
    const shown = page.getByTestId('one-time-secret');
    await shown.waitFor();
    secret = (await shown.textContent()) ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.getByText('It will not be shown again.').waitFor();
    await page.getByRole('button', { name: 'Copy the secret' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    await checkPage(ui, page, 'connectors-secret');

    await page.getByRole('button', { name: 'I have stored it' }).click();
    await card('hook').getByText('Healthy: ready to receive messages.').waitFor();
    await card('hook').getByText('No channel yet').waitFor();
    expect(await card('hook').getByText('HMAC-signed requests').count()).toBe(1);
    // Gone from the page once dismissed, and never again from the API or a reload.
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await card('hook').waitFor();
    expect(await page.content()).not.toContain(secret);
    const shownByApi = await ui.request('GET', '/v1/connectors/hook/adapter');
    expect(shownByApi.status).toBe(200);
    expect(shownByApi.text).not.toContain(secret);
  });

  it('refuses to add a connector over an existing one, so its rules are not replaced silently', async () => {
    await page.getByRole('button', { name: 'Add a connector' }).click();
    const form = page.getByRole('form', { name: 'New connector' });
    await form.getByLabel('Id').fill('hook');
    await form.getByLabel('Goal of the run a message starts').fill('Something else');
    await form.getByRole('button', { name: 'Add the connector' }).click();
    await form.getByText(/already exists/).waitFor();
    await form.getByRole('button', { name: 'Cancel' }).click();
    expect((await chainOf('connector.adapter_set')).length).toBe(1);
  });

  it(
    'shows a signed message’s new channel live as waiting, approved in the inbox, then active',
    async () => {
      const res = await sendSigned(secret, 'msg-1');
      expect(res.status).toBe(202);
      expect(((await res.json()) as InboundResult).outcome).toBe('waiting_channel_approval');
      // The page was open all along: the stream's approval.request refreshed it.
      const connection = card('hook').locator(`[data-channel="${CHANNEL}"]`);
      await connection.getByText('waiting for your approval').waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await connection.getAttribute('data-state')).toBe('pending_approval');
      await checkPage(ui, page, 'connectors');
      await page.getByLabel('Theme').selectOption('dark');
      await expectAccessible(page, 'connectors in dark');
      await ui.screenshot(page, 'connectors-dark');
      await page.getByLabel('Theme').selectOption('system');

      await connection.getByRole('link', { name: /Decide in the approvals inbox/ }).click();
      await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
      const approval = page.locator('[data-kind="channel"]');
      await approval.getByText(`channel ${CHANNEL}`, { exact: false }).first().waitFor();
      await approval.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Nothing waits for you').waitFor({ timeout: UI_TIMEOUT_MS });

      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Connectors' })
        .click();
      await connection.getByText('active').waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await connection.getAttribute('data-state')).toBe('approved');
      const decided = await chainOf('connection.decided');
      expect(decided.map((e) => e.data.state)).toEqual(['approved']);
      const pending = (await ui.request('GET', '/v1/approvals?state=pending')).body as {
        approvals: Approval[];
      };
      expect(pending.approvals).toEqual([]);
    },
    3 * UI_TIMEOUT_MS,
  );

  it('finds connectors by search and says when none matches', async () => {
    const search = page.getByRole('search', { name: 'Search connectors' }).getByLabel('Search');
    await search.fill('customer');
    await page.getByRole('heading', { name: '1 connector matching “customer”' }).waitFor();
    await search.fill('nothing-like-it');
    await page.getByText('No connector matches').waitFor();
    await checkPage(ui, page, 'connectors-no-match');
    await search.fill('');
    await card('hook').waitFor();
  });

  it('self-tests a connector without storing anything', async () => {
    const before = (await ui.request('GET', '/v1/chain?limit=1000')).body as {
      entries: ChainEntry[];
    };
    await card('hook').getByRole('button', { name: 'Self-test hook' }).click();
    const result = card('hook').getByTestId('self-test');
    await result.getByText('Self-test passed').waitFor();
    expect(await result.getByText('failed').count()).toBe(0);
    const after = (await ui.request('GET', '/v1/chain?limit=1000')).body as {
      entries: ChainEntry[];
    };
    expect(after.entries.length).toBe(before.entries.length);
  });

  it('shows plainly that senders cannot authenticate once its secret is deleted by hand', async () => {
    const shown = (await ui.request('GET', '/v1/connectors/hook/adapter')).body as {
      config: { secret_name: string };
    };
    const name = shown.config.secret_name;
    expect((await ui.request('DELETE', `/v1/secrets/${name}`)).status).toBe(200);
    await page.reload();
    const health = card('hook').getByTestId('connector-health');
    await health.getByText(/^Authentication failed: /).waitFor();
    expect(await health.textContent()).toContain(`its secret ${name} is missing`);
    await card('hook').getByRole('button', { name: 'Self-test hook' }).click();
    await card('hook').getByTestId('self-test').getByText('Self-test failed').waitFor();
    await checkPage(ui, page, 'connectors-unhealthy');
  });

  it('makes a new secret after asking, shows it once, and only the new one is accepted', async () => {
    await card('hook').getByRole('button', { name: 'New secret for hook' }).click();
    await card('hook').getByRole('button', { name: 'Make a new secret' }).click();
    const shown = card('hook').getByTestId('one-time-secret');
    await shown.waitFor();
    const fresh = (await shown.textContent()) ?? '';
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(secret);
    await card('hook').getByRole('button', { name: 'I have stored it' }).click();
    await card('hook').getByText('Healthy: ready to receive messages.').waitFor();
    expect(await page.content()).not.toContain(fresh);
    expect((await sendSigned(secret, 'msg-old')).status).toBe(401);
    expect((await sendSigned(fresh, 'msg-new')).status).toBe(202);
    secret = fresh;
  });

  it('removes a connector only after a second step with focus on Cancel; its sender is then refused', async () => {
    await card('hook').getByRole('button', { name: 'Remove hook' }).click();
    const cancel = card('hook').getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe(
      'Cancel',
    );
    expect(
      await page.evaluate<string | null | undefined>(
        "document.activeElement?.closest('[data-connector-id]')?.getAttribute('data-connector-id')",
      ),
    ).toBe('hook');
    // A stray Enter lands on Cancel: nothing is removed.
    await page.keyboard.press('Enter');
    await card('hook').getByRole('button', { name: 'Remove hook' }).waitFor();
    expect((await ui.request('GET', '/v1/connectors/hook/adapter')).status).toBe(200);

    await card('hook').getByRole('button', { name: 'Remove hook' }).click();
    await card('hook').getByRole('button', { name: 'Remove the connector' }).click();
    await page.getByText('No connectors yet').waitFor();
    expect((await chainOf('connector.adapter_removed')).length).toBe(1);
    expect((await sendSigned(secret, 'msg-2')).status).not.toBe(202);
  });
});
