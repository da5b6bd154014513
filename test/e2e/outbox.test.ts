import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { OutboxList, OutboxMessageDetail } from '../../contracts/outbox.ts';
import { SEND_MESSAGE_TOOL } from '../../main/outbox/send-message-definition.ts';
import { callEntry, doneEntry, pack } from '../integration/autonomy/helpers/autonomy-host.ts';
import { startOutboxReceiver, webhookTo, type OutboxReceiver } from '../support/outbox-receiver.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { checkPage, expectAccessible } from './helpers/page-checks.ts';
import { startUiHost, type UiHost } from './helpers/ui-host.ts';

const skip = browserTestsSkipReason();
const UI_TIMEOUT_MS = 60_000;

/** A run made through the API has no channel of its own: the pack lists the one it sends to. */
const LISTED = pack('outbox-page', {
  outbound_channels: [{ connector_id: 'hook', channel_id: 'ch-1' }],
});

const DELIVERED_TEXT = 'The build is green.';
const RETRIED_TEXT = 'refuse-1: the parcel left the depot';
/** Markup an attacker would like the page to run: it must stay text. */
const HOSTILE_TEXT = `refuse-2 <img src=x onerror="document.title='pwned';window.__pwned=1">`;
const GONE_TEXT = 'refuse-3: an old reminder';
const STALE_TEXT = 'refuse-4: seen from a page that lost its stream';

/**
 * Issue 24's Outbox page in Chromium against a real headless host: a run sends five messages
 * through `ccos__send_message` to a webhook whose receiver on 127.0.0.1 takes one (200) and
 * refuses four (400: dead at once). The open page shows them live and counts the dead letters
 * in the navigation; the person opens one and reads its history; another admin discards one
 * under the person's eyes; the person retries one once the receiver is fixed and sees it
 * delivered; a page that lost its stream retries one already delivered and is told so by code;
 * the person discards the last, whose hostile markup stays text. Each admin action, and the
 * refusal, is one `outbox.admin` chain entry.
 */
describe.skipIf(skip !== undefined)('the Outbox page', () => {
  let ui: UiHost;
  let page: Page;
  let receiver: OutboxReceiver;
  /** Flipped by the test: the receiver refuses `refuse-*` messages until then. */
  let accepting = false;
  /** Message ids by their text, read from the API once the run has sent them. */
  const idOf = new Map<string, string>();

  beforeAll(async () => {
    receiver = await startOutboxReceiver((request) => {
      const text = (request.body as { text?: unknown }).text;
      const refused = typeof text === 'string' && text.startsWith('refuse') && !accepting;
      return { status: refused ? 400 : 200 };
    });
    ui = await startUiHost({
      installEchoNotes: false,
      allowLoopbackHttp: true,
      packs: [LISTED],
      transcript: {
        entries: [RETRIED_TEXT, DELIVERED_TEXT, HOSTILE_TEXT, GONE_TEXT, STALE_TEXT]
          .map((text, i) =>
            callEntry(`send-${i}`, SEND_MESSAGE_TOOL, {
              connector_id: 'hook',
              channel_id: 'ch-1',
              text,
            }),
          )
          .concat([doneEntry('Sent.')]),
      },
    });
    ({ page } = await ui.signIn());
    const put = await ui.request('PUT', '/v1/connectors/hook/adapter', webhookTo(receiver.url));
    expect(put.status, put.text).toBe(200);
  });

  afterAll(async () => {
    await ui.close();
    await receiver.close();
  });

  const row = (id: string) => page.locator(`[data-outbox-id="${id}"]`);
  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const adminEntries = async (): Promise<ChainEntry[]> => {
    const res = await ui.request('GET', '/v1/chain?event_type=outbox.admin&limit=100');
    expect(res.status, res.text).toBe(200);
    return (res.body as { entries: ChainEntry[] }).entries;
  };
  const detailOf = async (id: string): Promise<OutboxMessageDetail> => {
    const res = await ui.request('GET', `/v1/outbox/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body as OutboxMessageDetail;
  };
  /** Opens a message's page from the list by keyboard (its link, then Enter). */
  const open = async (text: string): Promise<string> => {
    const id = idOf.get(text) ?? '';
    await page.getByRole('link', { name: `Message ${id}` }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Message ${id}`, level: 1 }).waitFor();
    return id;
  };

  it('says what to do when there is nothing, and is in the navigation', async () => {
    await nav().getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor();
    await page.getByText('No messages yet').waitFor();
    expect(await page.getByTestId('dead-letters-badge').count()).toBe(0);
    await checkPage(ui, page, 'outbox-empty');
  });

  it(
    'shows a run’s messages live as they are delivered or dead-lettered, counting the dead in the navigation',
    async () => {
      const run = await ui.createRun({ goal: 'tell the channel', policy_pack: LISTED.id });
      // The page stays open, never reloaded: the stream's outbox entries refresh it.
      const dead = page.locator('[data-testid="outbox-message"]:has([data-state="dead"])');
      const delivered = page.locator(
        '[data-testid="outbox-message"]:has([data-state="delivered"])',
      );
      await dead.nth(3).waitFor({ timeout: UI_TIMEOUT_MS });
      await delivered.first().waitFor({ timeout: UI_TIMEOUT_MS });
      await page.getByRole('heading', { name: '5 messages' }).waitFor();
      await nav().getByTestId('dead-letters-badge').getByText('4').waitFor();
      expect(await nav().getByLabel('4 dead letters').count()).toBe(1);
      expect((await ui.settle(run.id)).state).toBe('done');

      const list = (await ui.request('GET', '/v1/outbox')).body as OutboxList;
      for (const m of list.messages) idOf.set((await detailOf(m.id)).content.text, m.id);
      expect(idOf.size).toBe(5);
      const deliveredRow = row(idOf.get(DELIVERED_TEXT) ?? '');
      expect(await deliveredRow.getByTestId('outbox-state').textContent()).toBe('delivered');
      expect(await deliveredRow.getByRole('link', { name: run.id }).count()).toBe(1);
      const deadRow = row(idOf.get(RETRIED_TEXT) ?? '');
      expect(await deadRow.getByTestId('outbox-state').textContent()).toBe('dead letter');
      expect(await deadRow.getByTestId('outbox-next').textContent()).toBe(
        'dead: refused by the receiver or by policy (permanent)',
      );
      expect(await deadRow.getByText('1 of 8').count()).toBe(1);
      // The list never carries a message's text.
      expect(await page.locator('main').textContent()).not.toContain(DELIVERED_TEXT);
      await checkPage(ui, page, 'outbox');
      await page.getByLabel('Theme').selectOption('dark');
      await expectAccessible(page, 'outbox in dark');
      await ui.screenshot(page, 'outbox-dark');
      await page.getByLabel('Theme').selectOption('system');
    },
    3 * UI_TIMEOUT_MS,
  );

  it('shows only the dead letters at one press, and keeps the filter in the address', async () => {
    // By keyboard: the filter is a row of real buttons.
    await page.getByRole('button', { name: 'Dead letters (4)' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '4 dead letters' }).waitFor();
    expect(await row(idOf.get(DELIVERED_TEXT) ?? '').count()).toBe(0);
    expect(new URL(page.url()).search).toBe('?state=dead');
    await page.reload();
    await page.getByRole('heading', { name: '4 dead letters' }).waitFor();
    expect(
      await page.getByRole('button', { name: 'Dead letters (4)' }).getAttribute('aria-pressed'),
    ).toBe('true');
    await checkPage(ui, page, 'outbox-dead');
  });

  it('opens a dead letter: its text as stored, its idempotency key and each attempt', async () => {
    const id = await open(RETRIED_TEXT);
    const stored = await detailOf(id);
    expect(await page.getByTestId('outbox-text').textContent()).toBe(RETRIED_TEXT);
    expect(await page.getByTestId('outbox-key').textContent()).toBe(stored.idempotency_key);
    expect(await page.getByTestId('outbox-label').textContent()).toBe('public');
    const attempts = page.getByTestId('outbox-attempt');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().getAttribute('data-outcome')).toBe('dead');
    await attempts
      .first()
      .getByText('HTTP 400, refused by the receiver or by policy (permanent): dead letter')
      .waitFor();
    await checkPage(ui, page, 'outbox-message');
    await page.getByRole('link', { name: '← All messages' }).click();
    await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor();
  });

  it('says by its code that an open message was discarded elsewhere meanwhile', async () => {
    const id = await open(GONE_TEXT);
    await page.getByRole('button', { name: `Discard ${id}` }).waitFor();
    // Another admin (the CLI's route) discards it while the person looks at it.
    const res = await ui.request('POST', `/v1/outbox/${id}/discard`);
    expect(res.status, res.text).toBe(200);
    const alert = page.getByRole('alert');
    await alert.getByText('NOT_FOUND').waitFor({ timeout: UI_TIMEOUT_MS });
    await alert.getByText('It may have been removed; go back to the list.').waitFor();
    await nav().getByTestId('dead-letters-badge').getByText('3').waitFor();
    await page.getByRole('link', { name: '← All messages' }).click();
  });

  it(
    'retries a dead letter after a confirming step once the receiver is fixed, and sees it delivered live',
    async () => {
      const id = await open(RETRIED_TEXT);
      accepting = true;
      await page.getByRole('button', { name: `Retry ${id}` }).click();
      await page.getByRole('button', { name: 'Retry the message' }).click();
      // The retry's outbox.admin, then the attempt's outbound.attempt, refresh the open page.
      await page
        .locator('[data-testid="outbox-state"][data-state="delivered"]')
        .waitFor({ timeout: UI_TIMEOUT_MS });
      const attempts = page.getByTestId('outbox-attempt');
      await attempts.nth(1).waitFor();
      expect(await attempts.nth(1).getAttribute('data-outcome')).toBe('delivered');
      expect(await attempts.nth(1).getByText('HTTP 200: delivered').count()).toBe(1);
      expect(await page.getByRole('button', { name: `Retry ${id}` }).count()).toBe(0);
      // Same key on both attempts: the receiver took it once.
      const key = (await detailOf(id)).idempotency_key;
      expect(receiver.requests.filter((r) => r.key === key)).toHaveLength(2);
      expect(receiver.accepted.has(key)).toBe(true);
      await nav().getByTestId('dead-letters-badge').getByText('2').waitFor();
      const retried = (await adminEntries()).filter((e) => e.data.action === 'retry');
      expect(retried.map((e) => e.data.ids)).toEqual([[id]]);
    },
    3 * UI_TIMEOUT_MS,
  );

  it('tells a page that lost its live stream, by code, that the message was delivered meanwhile', async () => {
    const id = idOf.get(STALE_TEXT) ?? '';
    const other = await ui.signIn();
    try {
      // A page whose event stream is cut (a network fault): it keeps what it last read.
      await other.page.route('**/v1/events', (route) => route.abort());
      await other.page.goto(`${ui.url}/outbox/${id}`);
      await other.page.getByTestId('live-status').getByText('reconnecting…').waitFor();
      await other.page.getByRole('button', { name: `Retry ${id}` }).click();
      // Meanwhile another admin retries it and the receiver takes it.
      expect((await ui.request('POST', `/v1/outbox/${id}/retry`, {})).status).toBe(200);
      await ui.waitForEntry(
        (e) =>
          e.event_type === 'outbound.attempt' &&
          e.data.outbox_id === id &&
          e.data.outcome === 'delivered',
      );
      await other.page.getByRole('button', { name: 'Retry the message' }).click();
      const refusal = other.page.getByRole('alert');
      await refusal.getByText(/\(OUTBOX_ALREADY_DELIVERED\)$/).waitFor();
      await other.page
        .getByText('It was delivered meanwhile: there is nothing to retry or discard.')
        .waitFor();
      // The refusal's refetch shows the message as it is now.
      await other.page.locator('[data-testid="outbox-state"][data-state="delivered"]').waitFor();
      await checkPage(ui, other.page, 'outbox-refused');
    } finally {
      await other.context.close();
    }
    await nav().getByTestId('dead-letters-badge').getByText('1').waitFor();
  });

  it('discards a dead letter after a second step with focus on Cancel; its markup stays text', async () => {
    await page.getByRole('link', { name: '← All messages' }).click();
    const id = await open(HOSTILE_TEXT);
    const text = page.getByTestId('outbox-text');
    expect(await text.textContent()).toBe(HOSTILE_TEXT);
    // Rendered as text: no element came of it, and its handler never ran.
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate<unknown>('window.__pwned')).toBeUndefined();
    expect(await page.title()).not.toBe('pwned');

    await page.getByRole('button', { name: `Discard ${id}` }).click();
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe(
      'Cancel',
    );
    // A stray Enter lands on Cancel: nothing is discarded.
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Discard ${id}` }).waitFor();
    expect((await ui.request('GET', `/v1/outbox/${id}`)).status).toBe(200);

    await page.getByRole('button', { name: `Discard ${id}` }).click();
    await page.getByRole('button', { name: 'Discard the message' }).click();
    await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor();
    await row(idOf.get(DELIVERED_TEXT) ?? '').waitFor();
    await row(id).waitFor({ state: 'detached' });
    await nav().getByTestId('dead-letters-badge').waitFor({ state: 'detached' });
    expect((await ui.request('GET', `/v1/outbox/${id}`)).status).toBe(404);
    expect(
      receiver.requests.filter((r) => (r.body as { text: string }).text === HOSTILE_TEXT),
    ).toHaveLength(1);

    const entries = await adminEntries();
    expect(entries.map((e) => [e.data.action, e.data.ids, e.data.outcome])).toEqual([
      ['discard', [idOf.get(GONE_TEXT)], 'done'],
      ['retry', [idOf.get(RETRIED_TEXT)], 'done'],
      ['retry', [idOf.get(STALE_TEXT)], 'done'],
      ['retry', [idOf.get(STALE_TEXT)], 'refused'],
      ['discard', [id], 'done'],
    ]);
    expect(entries.every((e) => e.actor !== '')).toBe(true);
    await page.getByRole('button', { name: 'Dead letters' }).click();
    await page.getByText('No dead letters').waitFor();
    await checkPage(ui, page, 'outbox-no-dead');
  });
});
