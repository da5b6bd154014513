import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startUiHost, type UiHost } from './ui-host.ts';

/** A UI host of a describe block and the page signed in to it, set once its tests run. */
export type SignedInUi = { readonly ui: UiHost; readonly page: Page };

/**
 * In the describe block that calls it: a UI host started with `options` before its tests,
 * a page signed in to it (on the Runs page), and the host closed after them. The tests of
 * the block share both, in order, as a person would go from page to page.
 */
export function signedInUi(options: Parameters<typeof startUiHost>[0]): SignedInUi {
  let ui: UiHost | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    ui = await startUiHost(options);
    ({ page } = await ui.signIn());
  });
  afterAll(async () => {
    await ui?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the UI host is used before its beforeAll ran');
    return value;
  };
  return {
    get ui() {
      return started(ui);
    },
    get page() {
      return started(page);
    },
  };
}
