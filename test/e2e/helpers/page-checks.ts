import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { UiHost } from './ui-host.ts';

/** No serious or critical accessibility violation on the page as it is now. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, name).toEqual([]);
}

/** At 640 CSS px wide (a 1280 px window at 200 % zoom) the page does not scroll sideways. */
export async function expectNoHorizontalScroll(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1200, height: 900 };
  await page.setViewportSize({ width: 640, height: 900 });
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  expect(overflow, `${name} scrolls horizontally at 640 px`).toBeLessThanOrEqual(0);
  await page.setViewportSize(size);
}

/** Every page check: accessible, no sideways scroll at 640 px, a screenshot. */
export async function checkPage(ui: UiHost, page: Page, name: string): Promise<void> {
  await expectAccessible(page, name);
  await expectNoHorizontalScroll(page, name);
  await ui.screenshot(page, name);
}
