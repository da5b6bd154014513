import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../contracts/chain.ts';
import type { MemoryItem } from '../../contracts/memory.ts';
import type { Run } from '../../contracts/runs.ts';
import { callEntry, doneEntry } from '../integration/autonomy/helpers/autonomy-host.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { checkPage, expectAccessible } from './helpers/page-checks.ts';
import { startUiHost, type UiHost } from './helpers/ui-host.ts';

const skip = browserTestsSkipReason();
const PUT = 'ccos__memory_put';
const UI_TIMEOUT_MS = 60_000;
const DAY_S = 24 * 60 * 60;
/** Stored by the agent while no secret holds it; made a secret later, it must be masked. */
const DOOR_CODE = `lantern-${randomBytes(6).toString('hex')}-harbor`;

/**
 * Issue 24's Memory page in Chromium against a real headless host: each run's agent (replay
 * LLM, real worker) stores four items through the governed-memory tool, and the person
 * lists, filters, opens, deletes and purges them in the UI; deletes and purges are on the chain.
 */
describe.skipIf(skip !== undefined)('the Memory page', () => {
  let ui: UiHost;
  let page: Page;
  let first: Run;
  let second: Run;

  beforeAll(async () => {
    ui = await startUiHost({
      transcript: {
        entries: [
          callEntry('call_1', PUT, { key: 'shopping', value: 'milk' }),
          callEntry('call_2', PUT, {
            key: 'for-you',
            value: { text: 'ask about the invoice' },
            audience: 'ui_only',
            ttl_seconds: DAY_S,
          }),
          callEntry('call_3', PUT, { key: 'plan', value: 'step two', namespace: 'goal' }),
          callEntry('call_4', PUT, { key: 'door', value: { code: DOOR_CODE } }),
          doneEntry('Remembered.'),
        ],
      },
    });
    ({ page } = await ui.signIn());
  });

  afterAll(async () => {
    await ui.close();
  });

  const items = async (query = ''): Promise<MemoryItem[]> => {
    const res = await ui.request('GET', `/v1/memory${query}`);
    expect(res.status, res.text).toBe(200);
    return (res.body as { items: MemoryItem[] }).items;
  };

  const chainOf = async (type: string): Promise<ChainEntry[]> => {
    const res = await ui.request('GET', `/v1/chain?event_type=${type}&limit=100`);
    expect(res.status, res.text).toBe(200);
    return (res.body as { entries: ChainEntry[] }).entries;
  };

  const card = (key: string) =>
    page.getByTestId('memory-item').filter({ has: page.getByRole('heading', { name: key }) });

  const filterBy = async (field: 'Run' | 'Session' | 'Namespace', value: string) => {
    const form = page.getByRole('search', { name: 'Filter memory' });
    await form.getByRole('button', { name: 'Clear' }).click();
    await form.getByLabel(field).fill(value);
    await form.getByRole('button', { name: 'Filter' }).click();
  };

  it('says what to do when nothing is remembered yet, and is in the navigation', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Memory' })
      .click();
    await page.getByRole('heading', { name: 'Memory', level: 1 }).waitFor();
    await page.getByText('Nothing remembered yet').waitFor();
    await page.getByText('ccos__memory_put').waitFor();
    await checkPage(ui, page, 'memory-empty');
  });

  it(
    'lists every item with its label, taint, source, audience and expiry, live as runs write',
    async () => {
      first = await ui.createRun({ goal: 'Remember the shopping' });
      expect((await ui.settle(first.id, UI_TIMEOUT_MS)).state).toBe('done');
      second = await ui.createRun({ goal: 'Remember the plan' });
      expect((await ui.settle(second.id, UI_TIMEOUT_MS)).state).toBe('done');

      const stored = await items();
      expect(stored).toHaveLength(8);
      // The page was open all along: the stream's memory.write entries refreshed it.
      await page.getByRole('heading', { name: '8 items' }).waitFor({ timeout: UI_TIMEOUT_MS });
      const forYou = stored.find((i) => i.key === 'for-you' && i.run_id === first.id);
      expect(forYou?.audience).toBe('ui_only');
      expect(forYou?.expires_at).not.toBeNull();
      const shown = page.locator(`[data-memory-id="${forYou?.id ?? ''}"]`);
      const fact = (name: string) => shown.locator(`dt:text-is("${name}") + dd`).textContent();
      expect(await fact('Namespace')).toBe(`run:${first.id}`);
      // The window that asked for the write held only the goal and host words: public.
      expect(forYou?.label).toEqual([]);
      expect(await fact('Label')).toBe('public');
      expect(await shown.locator('.badge').textContent()).toBe(forYou?.taint);
      expect(await fact('Source')).toBe(`agent ${first.id}`);
      // ui_only is bound to no run: the person alone reads it.
      expect(forYou?.audience_id).toBeNull();
      expect(await fact('Audience')).toBe('ui_only');
      const expires = (await fact('Expires')) ?? '';
      expect(expires).not.toBe('never');
      expect(expires).toContain(new Date(forYou?.expires_at ?? 0).getFullYear().toString());
      const shopping = stored.find((i) => i.key === 'shopping' && i.run_id === first.id);
      // Written without a lifetime, it keeps the pack's default retention, shown as a date.
      expect(shopping?.expires_at).not.toBeNull();
      const shoppingCard = page.locator(`[data-memory-id="${shopping?.id ?? ''}"]`);
      expect(await shoppingCard.locator('dt:text-is("Expires") + dd').textContent()).toContain(
        new Date(shopping?.expires_at ?? 0).getFullYear().toString(),
      );
      await checkPage(ui, page, 'memory');
      await page.getByLabel('Theme').selectOption('dark');
      await expectAccessible(page, 'memory in dark');
      await ui.screenshot(page, 'memory-dark');
      await page.getByLabel('Theme').selectOption('system');
    },
    3 * UI_TIMEOUT_MS,
  );

  it('filters by run (from the run’s page too) and by namespace, the filter in the address', async () => {
    await page.goto(`${ui.url}/runs/${first.id}`);
    await page.getByRole('link', { name: 'What this run remembered' }).click();
    await page.getByRole('heading', { name: `4 items of run ${first.id}` }).waitFor();
    expect(await page.getByLabel('Run', { exact: true }).inputValue()).toBe(first.id);
    const ids = await Promise.all(
      (await page.getByTestId('memory-item').all()).map((c) => c.getAttribute('data-memory-id')),
    );
    const ofFirst = await items(`?run_id=${first.id}`);
    expect(ids.sort()).toEqual(ofFirst.map((i) => i.id).sort());
    expect(new URL(page.url()).search).toBe(`?run_id=${first.id}`);

    const plan = ofFirst.find((i) => i.key === 'plan');
    expect(plan?.namespace).not.toBe(ofFirst.find((i) => i.key === 'shopping')?.namespace);
    await filterBy('Namespace', plan?.namespace ?? '');
    await page
      .getByRole('heading', { name: `1 item of namespace ${plan?.namespace ?? ''}` })
      .waitFor();
    await card('plan').waitFor();
    // Filtering keeps the keyboard where it was (the form is not rebuilt under it).
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe(
      'Filter',
    );

    // An id the API refuses (longer than it allows) shows the server's message, not a blank.
    await filterBy('Run', 'r'.repeat(101));
    await page.getByRole('alert').getByText('INVALID_INPUT').waitFor();
    await page.getByRole('button', { name: 'Try again' }).waitFor();

    await filterBy('Run', 'run_that_never_was');
    await page.getByText('No items match').waitFor();
    await page.getByText('Clear the filter to see all memory').waitFor();
  });

  it('shows an item’s detail by keyboard: its value as the API gives it', async () => {
    await filterBy('Run', first.id);
    const shopping = card('shopping');
    const toggle = shopping.getByRole('button', { name: 'Show details of shopping' });
    await toggle.focus();
    await page.keyboard.press('Enter');
    const detail = shopping.getByTestId('memory-detail');
    const value = detail.getByLabel('value of shopping');
    await value.waitFor();
    const id = (await items(`?run_id=${first.id}`)).find((i) => i.key === 'shopping')?.id;
    const item = (await ui.request('GET', `/v1/memory/${id ?? ''}`)).body as MemoryItem;
    expect(item.value_withheld).toBe(false);
    expect(JSON.parse((await value.textContent()) ?? 'null')).toEqual(item.value);
    expect(await detail.getByTestId('value-withheld').count()).toBe(0);
    expect(await detail.getByRole('link', { name: first.id }).getAttribute('href')).toBe(
      `/runs/${first.id}`,
    );
    const hide = shopping.getByRole('button', { name: 'Hide details of shopping' });
    expect(await hide.getAttribute('aria-expanded')).toBe('true');
    expect(await hide.getAttribute('aria-controls')).toBe(await detail.getAttribute('id'));
    await checkPage(ui, page, 'memory-detail');
  });

  it('shows a value that became a secret masked as the host gives it, never the stored one', async () => {
    const put = await ui.request('PUT', '/v1/secrets/DOOR_CODE', { value: DOOR_CODE });
    expect(put.status, put.text).toBe(200);
    const door = card('door');
    await door.getByRole('button', { name: 'Show details of door' }).click();
    const detail = door.getByTestId('memory-detail');
    await detail.getByTestId('value-withheld').getByText('Partly masked').waitFor();
    const id = (await items(`?run_id=${first.id}`)).find((i) => i.key === 'door')?.id;
    const item = (await ui.request('GET', `/v1/memory/${id ?? ''}`)).body as MemoryItem;
    expect(item.value_withheld).toBe(true);
    const shown: unknown = JSON.parse(
      (await detail.getByLabel('value of door').textContent()) ?? '',
    );
    expect(shown).toEqual(item.value);
    expect(await page.content()).not.toContain(DOOR_CODE);
    await door.getByRole('button', { name: 'Hide details of door' }).click();
  });

  it('deletes one item after asking, by keyboard, and the chain records who deleted what', async () => {
    const target = (await items(`?run_id=${first.id}`)).find((i) => i.key === 'shopping');
    expect(target).toBeDefined();
    const shopping = card('shopping');
    await shopping.getByRole('button', { name: 'Delete shopping' }).focus();
    await page.keyboard.press('Enter');
    // The question takes the focus to Cancel: a second Enter does not destroy anything.
    const cancel = shopping.getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    const focused = await page.evaluate<string | undefined>('document.activeElement?.textContent');
    expect(focused).toBe('Cancel');
    await page.keyboard.press('Enter');
    await shopping.getByRole('button', { name: 'Delete shopping' }).waitFor();
    expect((await items(`?run_id=${first.id}`)).map((i) => i.id)).toContain(target?.id);

    await shopping.getByRole('button', { name: 'Delete shopping' }).click();
    await shopping.getByRole('button', { name: 'Delete the item' }).click();
    await page.getByRole('heading', { name: `3 items of run ${first.id}` }).waitFor();
    expect((await items(`?run_id=${first.id}`)).map((i) => i.id)).not.toContain(target?.id);
    const deleted = (await chainOf('memory.deleted')).filter((e) => e.data.item_id === target?.id);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]?.data).toMatchObject({ namespace: target?.namespace, key: 'shopping' });
    expect(deleted[0]?.actor).toMatch(/\S/);
    expect(JSON.stringify(deleted)).not.toContain('milk');
  });

  it('purges a run’s memory after asking, and the chain records the scope and count', async () => {
    const before = await items(`?run_id=${second.id}`);
    expect(before).toHaveLength(4);
    await filterBy('Run', second.id);
    const purge = page.getByRole('region', { name: 'Purge' });
    // The purge scope follows the filter.
    expect(await purge.getByLabel('Its id or name').inputValue()).toBe(second.id);
    await purge.getByRole('button', { name: `Purge run ${second.id}` }).click();
    await purge
      .getByText(`Delete every memory item of run ${second.id} (4 shown below)?`)
      .waitFor();
    await checkPage(ui, page, 'memory-purge-confirm');
    await purge.getByRole('button', { name: 'Purge all its items' }).click();
    await purge.getByTestId('purge-result').getByText('Purged 4 items.').waitFor();
    await page.getByText('No items match').waitFor();

    expect(await items(`?run_id=${second.id}`)).toEqual([]);
    // The other run's items are untouched.
    expect(await items(`?run_id=${first.id}`)).toHaveLength(3);
    const purged = (await chainOf('memory.purged')).filter(
      (e) => JSON.stringify(e.data.scope) === JSON.stringify({ run_id: second.id }),
    );
    expect(purged).toHaveLength(1);
    expect(purged[0]?.data.purged).toBe(4);
  });

  it('purges a namespace the filter names, and the chain records that scope', async () => {
    const plan = (await items(`?run_id=${first.id}`)).find((i) => i.key === 'plan');
    const namespace = plan?.namespace ?? '';
    await filterBy('Namespace', namespace);
    await card('plan').waitFor();
    const purge = page.getByRole('region', { name: 'Purge' });
    expect(await purge.getByLabel('Scope').inputValue()).toBe('namespace');
    await purge.getByRole('button', { name: `Purge namespace ${namespace}` }).click();
    await purge.getByRole('button', { name: 'Purge all its items' }).click();
    await purge.getByTestId('purge-result').getByText('Purged 1 item.').waitFor();
    expect(await items(`?namespace=${encodeURIComponent(namespace)}`)).toEqual([]);
    expect((await items(`?run_id=${first.id}`)).map((i) => i.key).sort()).toEqual([
      'door',
      'for-you',
    ]);
    const purged = (await chainOf('memory.purged')).filter(
      (e) => JSON.stringify(e.data.scope) === JSON.stringify({ namespace }),
    );
    expect(purged.map((e) => e.data.purged)).toEqual([1]);
  });

  it('purges a session, and then says nothing is remembered', async () => {
    const sessionId = (await ui.getRun(first.id)).run.session_id;
    expect(sessionId).not.toBe((await ui.getRun(second.id)).run.session_id);
    // From an item's detail: its session is one click away.
    await filterBy('Run', first.id);
    const door = card('door');
    await door.getByRole('button', { name: 'Show details of door' }).click();
    await door
      .getByRole('button', { name: `${sessionId}: show only this session’s memory` })
      .click();
    await page.getByRole('heading', { name: `2 items of session ${sessionId}` }).waitFor();
    const form = page.getByRole('search', { name: 'Filter memory' });
    expect(await form.getByLabel('Session').inputValue()).toBe(sessionId);
    expect(await form.getByLabel('Run', { exact: true }).inputValue()).toBe('');
    const purge = page.getByRole('region', { name: 'Purge' });
    await purge.getByRole('button', { name: `Purge session ${sessionId}` }).click();
    await purge.getByRole('button', { name: 'Purge all its items' }).click();
    await purge.getByTestId('purge-result').getByText('Purged 2 items.').waitFor();
    const purged = (await chainOf('memory.purged')).filter(
      (e) => JSON.stringify(e.data.scope) === JSON.stringify({ session_id: sessionId }),
    );
    expect(purged.map((e) => e.data.purged)).toEqual([2]);
    await page
      .getByRole('search', { name: 'Filter memory' })
      .getByRole('button', { name: 'Clear' })
      .click();
    await page.getByText('Nothing remembered yet').waitFor();
    expect(await items()).toEqual([]);
  });
});
